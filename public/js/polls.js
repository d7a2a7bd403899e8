// The polls page: what is on air (the stream's preview and the poll with its phase), a form to
// queue a poll or put it on air now, the queue, "close now", and the history with winners.
// Control calls carry the API token from the field (kept in localStorage, as on the dashboard).
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const token = $('token');
  token.value = localStorage.getItem('sf_token') || '';
  token.addEventListener('change', () => localStorage.setItem('sf_token', token.value));
  const streamKey = $('streamKey');
  streamKey.value = new URLSearchParams(location.search).get('streamKey') || localStorage.getItem('sf_polls_stream') || '';

  function say(text, kind) {
    const m = $('message');
    m.textContent = text;
    m.className = kind || 'info';
  }

  async function call(method, url, body) {
    const headers = { 'content-type': 'application/json' };
    if (token.value) headers.authorization = 'Bearer ' + token.value;
    const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(json.message || 'HTTP ' + res.status);
    return json;
  }

  const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString() : '');
  const winnerText = (p) => (!p.winner ? (p.closedAt ? 'no votes' : '') : (p.winner.tie ? 'tie: ' : '') + p.winner.labels.join(', '));
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  // On air: the poll, its phase and countdown.
  let onAir = null;
  async function refreshOnAir() {
    try {
      const res = await fetch('/api/poll', { cache: 'no-store' });
      onAir = res.ok ? await res.json() : null;
    } catch {
      onAir = null;
    }
    const p = onAir;
    $('onair-question').textContent = p ? p.question : 'No poll on air';
    document.body.dataset.pollId = p ? String(p.id) : '';
    const list = $('onair-options');
    list.textContent = '';
    if (!p) return;
    const won = new Set((p.winner && p.winner.keys) || []);
    for (const o of p.options) list.appendChild(el('li', `${o.label} — ${o.votes} (${o.percent}%)`, won.has(o.key) ? 'won' : ''));
    tick();
  }
  function tick() {
    const p = onAir;
    const badge = $('phase');
    if (!p) {
      badge.textContent = 'no poll';
      badge.className = 'badge off';
      $('onair-meta').textContent = '';
      return;
    }
    const now = Date.now();
    let phase = p.closedAt ? (p.revealAt && Date.parse(p.revealAt) <= now ? 'reveal' : 'closed') : p.endsAt && Date.parse(p.endsAt) <= now ? 'closed' : 'voting';
    badge.textContent = phase;
    badge.className = 'badge ' + (phase === 'voting' ? 'on' : 'warn');
    let meta = `poll #${p.id} · ${p.total} votes`;
    if (phase === 'voting') meta += p.endsAt ? ` · ${Math.max(0, Math.ceil((Date.parse(p.endsAt) - now) / 1000))} s left` : ' · open until closed';
    if (phase === 'reveal' && p.revealUntil) meta += ` · next poll in ${Math.max(0, Math.ceil((Date.parse(p.revealUntil) - now) / 1000))} s`;
    $('onair-meta').textContent = meta;
    $('close').disabled = phase !== 'voting';
  }

  // The stream's preview (the same SSE feed as the dashboard); reopened when the stream comes back.
  let feed = null;
  let frames = 0;
  function openFeed() {
    if (feed) feed.close();
    const key = streamKey.value.trim();
    localStorage.setItem('sf_polls_stream', key);
    feed = new EventSource('/stream/feed' + (key ? '?streamKey=' + encodeURIComponent(key) : ''));
    feed.onmessage = (ev) => {
      if (ev.data === 'stream_stopped') {
        $('overlay').classList.remove('hidden');
        return;
      }
      $('preview').src = 'data:image/jpeg;base64,' + ev.data;
      frames += 1;
      document.body.dataset.frames = String(frames);
      $('overlay').classList.add('hidden');
    };
    feed.onerror = () => {
      $('overlay').classList.remove('hidden');
      if (feed && feed.readyState === EventSource.CLOSED) setTimeout(openFeed, 3000);
    };
  }
  streamKey.addEventListener('change', openFeed);

  async function refreshQueue() {
    const { queue } = await call('GET', '/api/polls/queue');
    const list = $('queue-list');
    list.textContent = '';
    if (!queue.length) list.appendChild(el('li', 'Nothing queued: the generator picks the next poll.', 'muted'));
    for (const q of queue) {
      const li = el('li', `${q.question} (${q.options.join(' / ')})${q.durationSeconds === null ? '' : ` · ${q.durationSeconds || 'until closed'}${q.durationSeconds ? ' s' : ''}`}`);
      li.dataset.id = String(q.id);
      const rm = el('button', 'remove');
      rm.type = 'button';
      rm.addEventListener('click', () => call('DELETE', '/api/polls/queue/' + q.id).then(refreshQueue, (e) => say(e.message, 'error')));
      li.appendChild(rm);
      list.appendChild(li);
    }
  }

  let before = null;
  async function loadHistory(more) {
    const r = await call('GET', '/api/polls?limit=10' + (more && before ? '&before=' + before : ''));
    const body = $('history').tBodies[0];
    if (!more) body.textContent = '';
    for (const p of r.polls) {
      const tr = document.createElement('tr');
      for (const v of [p.id, p.question, winnerText(p), p.total, fmtTime(p.closedAt)]) tr.appendChild(el('td', String(v)));
      body.appendChild(tr);
    }
    before = r.nextBefore;
    $('older').hidden = !before;
  }
  $('older').addEventListener('click', () => loadHistory(true).catch((e) => say(e.message, 'error')));

  function draft() {
    const options = [...document.querySelectorAll('#create .option')].map((i) => i.value.trim()).filter(Boolean);
    const body = { question: $('question').value.trim(), options };
    const d = $('duration').value.trim();
    if (d !== '') body.durationSeconds = Number(d);
    return body;
  }
  $('create').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const q = await call('POST', '/api/polls/queue', draft());
      say(`Queued: ${q.question}`, 'ok');
      $('create').reset();
      await refreshQueue();
    } catch (e) {
      say(e.message, 'error');
    }
  });
  $('now').addEventListener('click', async () => {
    const body = draft();
    if (body.durationSeconds === 0) delete body.durationSeconds; // "until closed" is the generate default
    try {
      const r = await call('POST', '/api/poll/generate', body);
      say(`On air: ${r.poll.question}`, 'ok');
      $('create').reset();
      await Promise.all([refreshOnAir(), loadHistory(false)]);
    } catch (e) {
      say(e.message, 'error');
    }
  });
  $('close').addEventListener('click', async () => {
    try {
      await call('POST', '/api/poll/close');
      say('Closed: the winner is revealed, then the next poll opens.', 'ok');
      await refreshOnAir();
    } catch (e) {
      say(e.message, 'error');
    }
  });

  let lastId = null;
  async function everySecond() {
    await refreshOnAir();
    // A new poll on air: the queue and the history changed too.
    if (onAir && onAir.id !== lastId) {
      lastId = onAir.id;
      await Promise.all([refreshQueue(), loadHistory(false)]).catch(() => undefined);
    }
  }
  openFeed();
  everySecond();
  refreshQueue().catch((e) => say(e.message, 'error'));
  setInterval(() => everySecond().catch(() => undefined), 1000);
  setInterval(tick, 250);
})();
