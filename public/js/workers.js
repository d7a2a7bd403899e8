// Dashboard panel "Workers" (issue 13): each live worker's streams, headroom and shed level,
// from /api/health every 3 s. Text only (textContent), no inline script or style (strict CSP).
(function () {
  const box = document.getElementById('workers');
  if (!box) return;
  const badge = document.getElementById('workers-state');
  const list = document.getElementById('workers-list');
  const SHED = ['full rate', 'previews slowed', 'broadcast 5/6 rate', 'broadcast 2/3 rate', 'broadcast 1/2 rate'];

  function row(name, value) {
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.textContent = value;
    list.append(dt, dd);
  }

  function render(h) {
    list.replaceChildren();
    const workers = (h.workers && h.workers.capacity) || [];
    const room = workers.reduce((n, w) => n + (typeof w.headroom === 'number' ? w.headroom : 0), 0);
    badge.textContent = workers.length ? room + ' more stream' + (room === 1 ? '' : 's') : 'no worker';
    badge.className = 'badge ' + (!workers.length ? 'bad' : room > 0 ? 'on' : 'warn');
    for (const w of workers) {
      const parts = [w.streams + ' stream' + (w.streams === 1 ? '' : 's')];
      if (typeof w.headroom === 'number') parts.push('room for ' + w.headroom + ' more');
      if (typeof w.cpuAvailable === 'number') parts.push(w.cpuAvailable.toFixed(2) + ' of ' + w.cores + ' cores free');
      if (typeof w.costPerStream === 'number') parts.push(w.costPerStream.toFixed(2) + ' cores/stream' + (w.othersPerStream ? ' (+' + w.othersPerStream.toFixed(2) + ' elsewhere)' : ''));
      if (w.shedLevel) parts.push('shedding: ' + (SHED[w.shedLevel] || 'level ' + w.shedLevel));
      if (w.mode === 'off') parts.push('admission off');
      row(w.id, parts.join(' · '));
    }
  }

  async function refresh() {
    try {
      const res = await fetch('/api/health');
      render(await res.json());
    } catch {
      /* the main panel says when the server is unreachable */
    }
  }
  refresh();
  setInterval(refresh, 3000);
})();
