// Viewer page: joins a stream by key (?key= or the input), draws its frames, shows the
// measured latency (now − frame timestamp) and the viewer count, and says clearly when the
// stream ended, does not exist, or the connection dropped (it rejoins after a reconnect).
(function () {
  'use strict';
  var params = new URLSearchParams(location.search);
  var $ = function (id) { return document.getElementById(id); };
  var painter = new window.FramePainter($('canvas'));
  var socket = io({ transports: ['websocket', 'polling'] });
  var key = params.get('key') || '';
  var registered = false;
  var watching = false;
  var frames = 0;
  var lat = [];
  $('key').value = key;

  function overlay(text) {
    var o = $('overlay');
    o.textContent = text || '';
    o.classList.toggle('hidden', !text);
  }
  function setBadge(text, cls) {
    var b = $('state');
    b.textContent = text;
    b.className = 'badge ' + cls;
  }
  function show(frame) {
    frames += 1;
    lat.push(Date.now() - frame.timestamp);
    if (lat.length > 30) lat.shift();
    painter.show(frame.data);
  }

  function register(then) {
    if (registered) return then();
    socket.emit('user:register', { username: 'viewer-' + Math.random().toString(36).slice(2, 6), role: 'VIEWER' }, function (res) {
      if (res && res.ok) { registered = true; then(); }
      else overlay('Could not register: ' + ((res && res.error && res.error.message) || 'unknown error'));
    });
  }

  function join() {
    key = $('key').value.trim();
    if (!key) { overlay('Enter a stream key.'); return; }
    history.replaceState(null, '', '?key=' + encodeURIComponent(key));
    overlay('Joining…');
    register(function () {
      socket.emit('stream:join', { streamKey: key }, function (res) {
        if (res && res.ok) {
          watching = true;
          $('viewers').textContent = res.stream.viewers;
          $('kind').textContent = res.stream.kind === 'server' ? 'server-rendered' : 'from a streamer';
          setBadge(res.stream.live ? 'live' : 'waiting', res.stream.live ? 'on' : 'warn');
          overlay(res.stream.live ? (frames ? '' : 'Waiting for the first frame…') : 'The streamer has not started yet.');
        } else {
          watching = false;
          var e = (res && res.error) || {};
          setBadge('not found', 'bad');
          overlay(e.code === 'stream_not_found' ? 'No live stream with this key. Check the link, or the stream has ended.' : e.message || 'Could not join.');
        }
      });
    });
  }

  socket.on('stream:buffer', function (m) {
    // Catch-up, oldest first: draw the newest at once (the rest is already the past).
    if (m.frames.length && m.part === m.parts) show(m.frames[m.frames.length - 1]);
  });
  socket.on('stream:data', function (f) {
    if (f.streamKey !== key) return;
    if (frames === 0) overlay('');
    show(f);
  });
  socket.on('stream:started', function () { setBadge('live', 'on'); overlay(frames ? '' : 'Waiting for the first frame…'); });
  socket.on('stream:viewers', function (m) { if (m.streamKey === key) $('viewers').textContent = m.count; });
  socket.on('stream:ended', function (m) {
    if (m.streamKey !== key) return;
    watching = false;
    $('viewers').textContent = '0';
    setBadge('ended', 'off');
    overlay('The stream has ended (' + m.reason.replace(/_/g, ' ') + ').');
  });
  socket.on('error', function (e) { $('message').textContent = e.message; });
  socket.on('disconnect', function () {
    registered = false;
    setBadge('disconnected', 'bad');
    overlay('Disconnected from the server — reconnecting…');
  });
  socket.on('connect', function () {
    setBadge('connected', 'off');
    if (key && (watching || frames === 0)) join();
  });

  $('watch').addEventListener('click', function () { frames = 0; join(); });
  $('key').addEventListener('keydown', function (e) { if (e.key === 'Enter') { frames = 0; join(); } });
  setInterval(function () {
    var sorted = lat.slice().sort(function (a, b) { return a - b; });
    $('latency').textContent = sorted.length ? sorted[Math.floor(sorted.length / 2)] + ' ms' : '—';
    $('frames').textContent = frames;
    $('skipped').textContent = painter.skipped;
  }, 500);
  if (!key) overlay('Enter a stream key to watch.');
  window.VoteWidget.mount($('vote'), socket);
  window.viewerState = { get frames() { return frames; }, get latency() { return lat.slice(); }, painter: painter };
})();
