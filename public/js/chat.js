// Dashboard panel "Chat votes" (issue 12): the chat bridge's state from /api/chat, every 2 s.
// Text only (textContent), no inline script or style: the pages run under a strict CSP.
(function () {
  const box = document.getElementById('chat');
  if (!box) return;
  const badge = document.getElementById('chat-state');
  const list = document.getElementById('chat-stats');

  function row(name, value) {
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.textContent = value;
    list.append(dt, dd);
  }

  function render(s) {
    list.replaceChildren();
    if (!s.configured) {
      badge.textContent = 'off';
      badge.className = 'badge off';
      row('setup', 'set TWITCH_CHANNEL to take votes from chat');
      return;
    }
    const bad = !s.connected && s.lastError;
    badge.textContent = s.connected ? 'connected' : s.node ? 'connecting' : 'no node';
    badge.className = 'badge ' + (s.connected ? 'on' : bad ? 'bad' : 'warn');
    row('channel', (s.platform || 'twitch') + ' #' + s.channel);
    if (typeof s.messagesPerSec === 'number') row('messages/s', String(s.messagesPerSec));
    if (typeof s.votes === 'number') row('votes counted', String(s.votes) + (s.duplicates ? ' (' + s.duplicates + ' repeats)' : ''));
    if (typeof s.reconnects === 'number') row('reconnects', String(s.reconnects));
    if (s.node) row('node', s.node);
    if (s.lastError) row('last error', s.lastError);
  }

  async function refresh() {
    try {
      const res = await fetch('/api/chat');
      if (res.ok) render(await res.json());
    } catch {
      /* the main panel says when the server is unreachable */
    }
  }
  refresh();
  setInterval(refresh, 2000);
})();
