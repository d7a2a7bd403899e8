// Dashboard: the current stream's destinations (state, time in it, bytes, restarts, last error)
// with add and remove, and the broadcast itself played from its HLS output with hls.js (sound
// included) beside the JPEG preview. Needs #destinations-panel and #hls-panel in the page;
// reads the API token the dashboard keeps in localStorage ('sf_token').
(function () {
  'use strict';
  var panel = document.getElementById('destinations-panel');
  var hlsPanel = document.getElementById('hls-panel');
  if (!panel) return;
  var streamKey = null;
  var hlsUrl = null;
  var player = null;

  panel.innerHTML =
    '<h3 class="dest-title">Destinations</h3>' +
    '<ul id="dest-list" class="dest-list"></ul>' +
    '<div id="dest-empty" class="dest-note">No stream running.</div>' +
    '<form id="dest-add" hidden>' +
    '<label for="dest-url">Add a destination (full RTMP URL with its key)</label>' +
    '<input id="dest-url" type="text" autocomplete="off" placeholder="rtmp://a.rtmp.youtube.com/live2/xxxx-xxxx">' +
    '<label for="dest-name">Name (optional)</label><input id="dest-name" type="text" maxlength="64">' +
    '<button id="dest-add-btn" class="go" type="submit">Add</button></form>' +
    '<div id="dest-message" class="info dest-message"></div>';
  var $ = function (id) { return document.getElementById(id); };

  function headers() {
    var h = { 'Content-Type': 'application/json' };
    var token = ($('token') && $('token').value) || localStorage.getItem('sf_token');
    if (token) h.Authorization = 'Bearer ' + token;
    return h;
  }
  function say(text, kind) {
    $('dest-message').textContent = text;
    $('dest-message').className = kind || 'info';
  }
  async function call(method, path, body) {
    var res = await fetch(path, { method: method, headers: headers(), body: body ? JSON.stringify(body) : undefined });
    var data = await res.json().catch(function () { return {}; });
    if (!res.ok) throw new Error(data.message || 'HTTP ' + res.status);
    return data;
  }
  function badge(health) {
    return health === 'live' ? 'on' : health === 'failed' ? 'bad' : 'warn';
  }
  function ago(since) {
    if (!since) return '';
    var s = Math.max(0, Math.round(Date.now() / 1000 - since));
    return s < 90 ? s + ' s' : Math.round(s / 60) + ' min';
  }
  function size(bytes) {
    return bytes > 1e6 ? (bytes / 1e6).toFixed(1) + ' MB' : Math.round(bytes / 1e3) + ' kB';
  }

  function render(list) {
    var ul = $('dest-list');
    ul.innerHTML = '';
    list.forEach(function (d) {
      var li = document.createElement('li');
      li.className = 'destination';
      li.dataset.id = d.id;
      li.dataset.health = d.health;
      li.style.cssText = 'border-top:1px solid #30363d;padding:6px 0;font-size:13px';
      var top = document.createElement('div');
      var b = document.createElement('span');
      b.className = 'badge ' + badge(d.health);
      b.textContent = d.health;
      var name = document.createElement('strong');
      name.textContent = ' ' + (d.name || d.id) + ' ';
      var rm = document.createElement('button');
      rm.type = 'button';
      rm.className = 'stop remove';
      rm.textContent = 'Remove';
      rm.style.cssText = 'margin:0;padding:2px 8px;font-size:12px;float:right';
      rm.onclick = function () { remove(d.id); };
      top.append(b, name, rm);
      var url = document.createElement('div');
      url.style.cssText = 'font-family:ui-monospace,monospace;overflow-wrap:anywhere;color:var(--muted)';
      url.textContent = d.url;
      var stats = document.createElement('div');
      stats.style.color = 'var(--muted)';
      stats.textContent = d.health + ' for ' + ago(d.since) + ' · ' + size(d.bytes) + ' · ' + d.restarts + ' restarts';
      li.append(top, url, stats);
      if (d.lastError && d.health !== 'live') {
        var err = document.createElement('div');
        err.style.cssText = 'color:var(--bad);white-space:pre-wrap';
        err.textContent = d.lastError.split('\n')[0];
        li.append(err);
      }
      ul.append(li);
    });
  }

  function play(url) {
    if (!hlsPanel || url === hlsUrl) return;
    hlsUrl = url;
    if (player) { player.destroy(); player = null; }
    hlsPanel.innerHTML = '';
    if (!url) return;
    var video = document.createElement('video');
    video.id = 'hls-video';
    video.controls = true;
    video.playsInline = true;
    video.style.cssText = 'width:100%;aspect-ratio:16/9;background:#000;border-radius:6px;margin-top:10px';
    var note = document.createElement('div');
    note.style.cssText = 'color:var(--muted);font-size:13px';
    note.textContent = 'The broadcast itself (HLS, with sound; a few seconds behind the preview). Press play.';
    hlsPanel.append(video, note);
    if (window.Hls && window.Hls.isSupported()) {
      player = new window.Hls({ liveSyncDurationCount: 2 });
      player.on(window.Hls.Events.ERROR, function (_e, data) {
        if (!data.fatal) return;
        // Typically the first playlist is not written yet: the next refresh starts the player afresh.
        console.warn('hls.js: ' + data.type + ' ' + data.details + '; retrying');
        hlsUrl = null;
      });
      player.loadSource(url);
      player.attachMedia(video);
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = url;
    }
  }

  async function refresh() {
    try {
      var st = await (await fetch('/stream/status')).json();
      streamKey = st.active ? st.stream_key : null;
      if (!streamKey) {
        render([]);
        $('dest-empty').hidden = false;
        $('dest-add').hidden = true;
        play(null);
        return;
      }
      var res = await fetch('/api/stream/' + encodeURIComponent(streamKey));
      if (!res.ok) return;
      var s = await res.json();
      $('dest-empty').hidden = s.destinations.length > 0;
      $('dest-empty').textContent = s.destinations.length ? '' : 'No destinations (previews only).';
      $('dest-add').hidden = false;
      render(s.destinations);
      play(s.hls);
    } catch (e) {
      /* the dashboard's own status line says when the server is unreachable */
    }
  }

  async function remove(id) {
    try {
      await call('DELETE', '/api/stream/' + encodeURIComponent(streamKey) + '/destinations/' + encodeURIComponent(id));
      say('Destination removed.');
    } catch (e) {
      say(e.message, 'error');
    }
    refresh();
  }

  $('dest-add').onsubmit = async function (ev) {
    ev.preventDefault();
    var body = { url: $('dest-url').value.trim() };
    if ($('dest-name').value.trim()) body.name = $('dest-name').value.trim();
    try {
      var r = await call('POST', '/api/stream/' + encodeURIComponent(streamKey) + '/destinations', body);
      say('Destination added (' + r.id + ').');
      $('dest-url').value = '';
      $('dest-name').value = '';
    } catch (e) {
      say(e.message, 'error');
    }
    refresh();
  };

  refresh();
  setInterval(refresh, 2000);
})();
