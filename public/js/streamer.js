// Streamer page: camera (or the synthetic source) → canvas → JPEG → `stream:data:send` as
// binary (default) or base64 (?format=base64). At most two frames wait for the server's ack:
// on a slow link the page skips frames instead of queueing them.
(function () {
  'use strict';
  var params = new URLSearchParams(location.search);
  var $ = function (id) { return document.getElementById(id); };
  var canvas = $('canvas'), ctx = canvas.getContext('2d');
  var video = $('camera');
  var state = { socket: null, key: null, timer: null, source: null, stream: null, inflight: 0, sent: 0, skipped: 0, bytes: 0, live: false };

  $('username').value = params.get('name') || 'streamer-' + Math.random().toString(36).slice(2, 6);
  if (params.get('format') === 'base64') $('format').value = 'base64';
  if (params.get('synthetic') === '1') $('source').value = 'synthetic';
  if (params.get('fps')) $('fps').value = params.get('fps');

  function say(text, kind) {
    var m = $('message');
    m.textContent = text;
    m.className = kind || 'info';
  }
  function setBadge(text, cls) {
    var b = $('state');
    b.textContent = text;
    b.className = 'badge ' + cls;
  }

  async function openSource() {
    var wantSynthetic = $('source').value === 'synthetic';
    if (!wantSynthetic && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
      try {
        state.stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
        video.srcObject = state.stream;
        await video.play();
        $('sourceName').textContent = 'camera';
        return function () { ctx.drawImage(video, 0, 0, canvas.width, canvas.height); };
      } catch (err) {
        say('No camera (' + err.name + '): using the synthetic source.', 'info');
      }
    }
    var synth = new window.SyntheticSource(canvas.width, canvas.height);
    $('sourceName').textContent = 'synthetic';
    return function () { synth.draw(ctx); };
  }

  function sendFrame() {
    state.source();
    if (state.inflight >= 2) {
      state.skipped += 1;
      return;
    }
    var quality = Number($('quality').value) || 0.7;
    var asBase64 = $('format').value === 'base64';
    state.inflight += 1;
    canvas.toBlob(function (blob) {
      if (!blob || !state.live) { state.inflight -= 1; return; }
      var ready = asBase64
        ? new Promise(function (resolve) {
            var r = new FileReader();
            r.onloadend = function () { resolve(String(r.result).split(',')[1]); };
            r.readAsDataURL(blob);
          })
        : blob.arrayBuffer();
      ready.then(function (data) {
        state.bytes += typeof data === 'string' ? data.length : data.byteLength;
        state.socket.emit('stream:data:send', { streamKey: state.key, data: data }, function (res) {
          state.inflight -= 1;
          if (res && res.ok) {
            state.sent += 1;
            $('viewers').textContent = res.viewers;
          } else if (res && res.error) say(res.error.message, 'error');
        });
      });
    }, 'image/jpeg', quality);
  }

  function stats() {
    $('sent').textContent = state.sent;
    $('skipped').textContent = state.skipped;
    $('kbps').textContent = Math.round((state.bytes * 8) / 1000 / 2);
    state.bytes = 0;
  }

  async function goLive() {
    $('golive').disabled = true;
    say('Connecting…');
    // With API_TOKEN set, registering a stream needs the token: the dashboard's (saved in this browser).
    var socket = io({ transports: ['websocket', 'polling'], auth: { token: localStorage.getItem('sf_token') || '' } });
    state.socket = socket;
    socket.on('connect_error', function () { say('Cannot reach the server; retrying…', 'error'); });
    socket.on('error', function (e) { say(e.message + ' (' + e.code + ')', 'error'); });
    socket.on('stream:viewers', function (m) { $('viewers').textContent = m.count; });
    socket.on('disconnect', function () {
      if (!state.live) return;
      stop(false);
      say('Disconnected from the server: the stream ended for its viewers. Press “Go live” to start a new one.', 'error');
    });
    socket.on('stream:created', async function (m) {
      state.key = m.stream.streamKey;
      $('key').textContent = state.key;
      var link = location.origin + '/viewer.html?key=' + encodeURIComponent(state.key);
      $('link').href = link;
      $('link').textContent = link;
      state.source = await openSource();
      socket.emit('stream:start', { streamKey: state.key }, function (res) {
        if (!res || !res.ok) { say((res && res.error && res.error.message) || 'could not start', 'error'); return; }
        state.live = true;
        setBadge('live', 'on');
        say('Live. Share the viewer link.');
        $('stop').disabled = false;
        var fps = Math.min(30, Math.max(1, Number($('fps').value) || 10));
        state.timer = setInterval(sendFrame, 1000 / fps);
        state.statsTimer = setInterval(stats, 2000);
      });
    });
    socket.emit('user:register', { username: $('username').value.trim() || 'streamer', role: 'STREAMER' }, function (res) {
      if (!res || !res.ok) { say((res && res.error && res.error.message) || 'could not register', 'error'); $('golive').disabled = false; }
    });
  }

  function stop(tellServer) {
    clearInterval(state.timer);
    clearInterval(state.statsTimer);
    var socket = state.socket;
    state.socket = null;
    if (socket) {
      // Disconnect after the server has taken the end (an event still in flight when the
      // connection closes is dropped), or after a second at most.
      var done = function () { socket.disconnect(); };
      if (state.live && tellServer && socket.connected) {
        socket.timeout(1000).emit('stream:end', { streamKey: state.key }, done);
      } else done();
    }
    state.live = false;
    if (state.stream) state.stream.getTracks().forEach(function (t) { t.stop(); });
    state.stream = null;
    setBadge('offline', 'off');
    $('golive').disabled = false;
    $('stop').disabled = true;
  }

  $('golive').addEventListener('click', goLive);
  $('stop').addEventListener('click', function () { stop(true); say('Stream ended.'); });
  if (params.get('autostart') === '1') goLive();
  window.streamerState = state;
})();
