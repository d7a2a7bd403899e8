// index.html: moved out of the page so the Content-Security-Policy can forbid inline script.
const $ = (id) => document.getElementById(id);
const tokenInput = $('token');
tokenInput.value = localStorage.getItem('sf_token') || '';
tokenInput.addEventListener('change', () => localStorage.setItem('sf_token', tokenInput.value));

let feed = null;
let frames = 0;
let lastFrameAt = 0;
let current = { active: false };
let reachable = true;

function say(text, kind = 'info') {
  const m = $('message');
  m.textContent = text;
  m.className = kind;
}

function headers() {
  const h = { 'Content-Type': 'application/json' };
  if (tokenInput.value) h.Authorization = 'Bearer ' + tokenInput.value;
  return h;
}

async function api(method, path, body) {
  let res;
  try {
    res = await fetch(path, { method, headers: headers(), body: body ? JSON.stringify(body) : undefined });
  } catch {
    throw new Error('The server is unreachable. Is `npm start` running?');
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.message || `HTTP ${res.status}`);
  return data;
}

function render(s) {
  current = s;
  const badge = $('state');
  const health = s.health || (s.active ? 'starting' : 'stopped');
  badge.textContent = s.active ? health : (health === 'failed' ? 'failed' : 'stopped');
  badge.className = 'badge ' + (!s.active ? (health === 'failed' ? 'bad' : 'off') : health === 'live' ? 'on' : health === 'reconnecting' ? 'warn' : 'warn');
  $('start').disabled = !!s.active;
  $('stop').disabled = !s.active;
  const rows = [
    ['active', s.active], ['health', s.health], ['task_id', s.task_id], ['fps', s.fps], ['quality', s.quality],
    ['screen', s.screen_id], ['started', s.started_at ? new Date(s.started_at * 1000).toLocaleTimeString() : null],
    ['frames', s.frames], ['dropped', s.dropped], ['restarts', s.restarts], ['worker', s.worker_id], ['last error', s.last_error],
  ];
  $('status').innerHTML = '';
  for (const [k, v] of rows) {
    if (v === null || v === undefined || v === '') continue;
    const dt = document.createElement('dt'); dt.textContent = k;
    const dd = document.createElement('dd'); dd.textContent = String(v);
    $('status').append(dt, dd);
  }
  if (s.active && !feed) openFeed();
}

async function refresh() {
  try {
    const res = await fetch('/stream/status');
    if (!res.ok) throw new Error('status ' + res.status);
    render(await res.json());
    if (!reachable) say('Connection to the server is back.');
    reachable = true;
  } catch {
    reachable = false;
    $('state').textContent = 'unreachable';
    $('state').className = 'badge bad';
    say('The server is unreachable. Retrying…', 'error');
  }
}

function openFeed() {
  closeFeed();
  frames = 0;
  $('overlay').textContent = 'Waiting for the first frame…';
  $('overlay').classList.remove('hidden');
  feed = new EventSource('/stream/feed');
  feed.onmessage = (ev) => {
    if (ev.data === 'stream_stopped') {
      closeFeed();
      $('overlay').textContent = 'The stream has stopped.';
      $('overlay').classList.remove('hidden');
      say('The stream has stopped.');
      refresh();
      return;
    }
    $('preview').src = 'data:image/jpeg;base64,' + ev.data;
    frames += 1;
    lastFrameAt = performance.now();
    $('overlay').classList.add('hidden');
    document.body.dataset.frames = String(frames);
  };
  feed.onerror = () => {
    // EventSource reconnects by itself; say so when the server went away mid-stream.
    if (feed && feed.readyState === EventSource.CONNECTING) say('Preview connection lost; reconnecting…', 'error');
  };
}

function closeFeed() {
  if (feed) feed.close();
  feed = null;
}

setInterval(() => {
  if (feed && frames) {
    const age = (performance.now() - lastFrameAt) / 1000;
    $('feedstats').textContent = `${frames} frames received · last ${age.toFixed(1)} s ago`;
  } else $('feedstats').textContent = '';
}, 500);

$('start').onclick = async () => {
  $('start').disabled = true;
  try {
    const body = { fps: Number($('fps').value), quality: Number($('quality').value) };
    const r = await api('POST', '/stream/start', body);
    say(`Started (task ${r.task_id}).`);
    openFeed();
  } catch (e) {
    say(e.message, 'error');
  }
  refresh();
};

$('stop').onclick = async () => {
  $('stop').disabled = true;
  try {
    await api('POST', '/stream/stop');
    say('Stop signal sent…');
  } catch (e) {
    say(e.message, 'error');
  }
  setTimeout(refresh, 300);
};

refresh();
setInterval(refresh, 2000);
