// The session history: /api/sessions a page at a time, newest first, optionally one stream's.
(function () {
  const $ = (id) => document.getElementById(id);
  let offset = 0;
  let page = null;

  function fmtDuration(s) {
    if (s === null) return 'running';
    if (s < 60) return s.toFixed(1) + ' s';
    const m = Math.floor(s / 60);
    return m < 60 ? m + ' min ' + Math.round(s % 60) + ' s' : Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  }

  function cell(tr, text, cls) {
    const td = document.createElement('td');
    td.textContent = text === null || text === undefined ? '' : String(text);
    if (cls) td.className = cls;
    tr.append(td);
  }

  async function load() {
    const q = new URLSearchParams({ limit: $('limit').value, offset: String(offset) });
    const key = $('streamKey').value.trim();
    if (key) q.set('streamKey', key);
    const res = await fetch('/api/sessions?' + q);
    const body = await res.json().catch(() => ({}));
    const rows = $('rows');
    rows.innerHTML = '';
    if (!res.ok) {
      $('summary').textContent = body.message || 'HTTP ' + res.status;
      page = null;
      return;
    }
    page = body;
    for (const s of body.sessions) {
      const tr = document.createElement('tr');
      cell(tr, s.id, 'num');
      cell(tr, s.stream);
      cell(tr, s.screenId);
      cell(tr, new Date(s.startedAt).toLocaleString());
      cell(tr, fmtDuration(s.durationSeconds));
      cell(tr, s.stopReason);
      cell(tr, s.frames, 'num');
      cell(tr, s.dropped, 'num');
      cell(tr, s.restarts, 'num');
      cell(tr, s.lastError);
      rows.append(tr);
    }
    const first = body.total ? body.offset + 1 : 0;
    $('summary').textContent = body.total ? `Sessions ${first}–${body.offset + body.sessions.length} of ${body.total}` : 'No sessions recorded yet.';
    $('prev').disabled = body.offset === 0;
    $('next').disabled = body.nextOffset === null;
    document.body.dataset.sessions = String(body.sessions.length);
  }

  $('prev').onclick = () => {
    offset = Math.max(0, offset - Number($('limit').value));
    load();
  };
  $('next').onclick = () => {
    if (page && page.nextOffset !== null) offset = page.nextOffset;
    load();
  };
  $('filter').onsubmit = (e) => {
    e.preventDefault();
    offset = 0;
    load();
  };
  $('limit').onchange = () => {
    offset = 0;
    load();
  };
  $('streamKey').onchange = () => {
    offset = 0;
    load();
  };
  load();
})();
