// The dashboard's live graphs: fps, bitrate, dropped frames and viewers per stream, from
// /api/stats once a second (the last two minutes), drawn with uPlot (served from node_modules).
(function () {
  const POINTS = 120;
  const PERIOD_MS = 1000;
  const COLOURS = ['#58a6ff', '#3fb950', '#d29922', '#f85149', '#bc8cff', '#39c5cf', '#ff7b72', '#e3b341'];
  const GRAPHS = [
    { id: 'fps', title: 'fps (encoded; rendered without a broadcast)', value: (s, d) => s.fps },
    { id: 'bitrate', title: 'bitrate (kbit/s)', value: (s) => s.bitrateKbps },
    { id: 'dropped', title: 'dropped frames per second', value: (s, d) => d.dropped },
    { id: 'viewers', title: 'viewers (SSE + socket.io, this node)', value: (s) => s.sseClients + s.socketViewers },
  ];
  const root = document.getElementById('graphs');
  if (!root || typeof uPlot === 'undefined') return;

  const times = [];
  /** stream → { prev: last stats, series: { graphId: [values] } } */
  const streams = new Map();
  let charts = [];
  let layoutKey = '';

  function ensureCharts(names) {
    const key = names.join('|');
    if (key === layoutKey) return;
    layoutKey = key;
    charts.forEach((c) => c.destroy());
    charts = [];
    root.innerHTML = '';
    if (!names.length) {
      root.append(Object.assign(document.createElement('p'), { className: 'muted', textContent: 'No stream is on air.' }));
      return;
    }
    for (const g of GRAPHS) {
      const box = document.createElement('div');
      box.className = 'graph';
      box.dataset.graph = g.id;
      const h = document.createElement('h3');
      h.textContent = g.title;
      box.append(h);
      root.append(box);
      const width = Math.max(300, box.clientWidth - 20);
      const opts = {
        width,
        height: 170,
        legend: { show: true },
        scales: { x: { time: true } },
        axes: [{ stroke: '#8b98a5', grid: { stroke: '#30363d' } }, { stroke: '#8b98a5', grid: { stroke: '#30363d' } }],
        series: [{}, ...names.map((n, i) => ({ label: n, stroke: COLOURS[i % COLOURS.length], width: 2, spanGaps: false }))],
      };
      charts.push({ g, box, plot: new uPlot(opts, [[]], box), destroy() { this.plot.destroy(); } });
    }
  }

  function push(stats) {
    const t = stats.at / 1000;
    times.push(t);
    const seen = new Set();
    for (const s of stats.streams) {
      seen.add(s.stream);
      let st = streams.get(s.stream);
      if (!st) {
        st = { prev: null, series: Object.fromEntries(GRAPHS.map((g) => [g.id, times.slice(0, -1).map(() => null)])) };
        streams.set(s.stream, st);
      }
      const dt = st.prev ? Math.max(0.001, t - st.prev.t) : null;
      const d = {
        dropped: dt ? Math.max(0, s.dropped - st.prev.dropped) / dt : 0,
      };
      // Without a broadcast there is no encoded fps: the rendered one, from the frame counter.
      if (s.fps === null) s.fps = dt ? Math.max(0, s.frames - st.prev.frames) / dt : null;
      for (const g of GRAPHS) st.series[g.id].push(g.value(s, d));
      st.prev = { t, frames: s.frames, dropped: s.dropped };
    }
    for (const [name, st] of streams) {
      if (!seen.has(name)) for (const g of GRAPHS) st.series[g.id].push(null);
    }
    while (times.length > POINTS) {
      times.shift();
      for (const st of streams.values()) for (const g of GRAPHS) st.series[g.id].shift();
    }
    // A stream with nothing left in the window leaves the graphs.
    for (const [name, st] of streams) if (st.series.fps.every((v) => v === null) && !seen.has(name)) streams.delete(name);
  }

  function draw() {
    const names = [...streams.keys()].sort();
    ensureCharts(names);
    for (const c of charts) {
      const series = names.map((n) => streams.get(n).series[c.g.id].slice());
      c.plot.setData([times.slice(), ...series]);
      // The latest value per stream, for a reader (and a test) that cannot see the canvas.
      c.box.dataset.last = JSON.stringify(Object.fromEntries(names.map((n, i) => [n, series[i][series[i].length - 1]])));
    }
    document.body.dataset.graphPoints = String(times.length);
    document.body.dataset.graphStreams = String(names.length);
  }

  async function tick() {
    try {
      const res = await fetch('/api/stats', { cache: 'no-store' });
      if (res.ok) {
        push(await res.json());
        draw();
      }
    } catch {
      /* the status line of the dashboard says when the server is unreachable */
    }
  }

  tick();
  setInterval(tick, PERIOD_MS);
})();
