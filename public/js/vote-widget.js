// Live poll widget: shows the current poll with bars that move on every `poll:update`, and
// casts `vote:cast` over the page's socket.io connection. Usage:
//   <section id="vote"></section> <script src="/js/vote-widget.js"></script>
//   VoteWidget.mount(document.getElementById('vote'), socket);
(function () {
  'use strict';
  var messages = {
    rate_limited: 'Slow down a little.',
    no_poll: 'There is no poll right now.',
    invalid_option: 'That option is not in this poll.',
  };
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function mount(root, socket) {
    root.classList.add('vote-widget');
    var title = el('h3', 'vote-question', 'Poll');
    var list = el('div', 'vote-options');
    var foot = el('div', 'vote-foot');
    var msg = el('div', 'vote-message');
    root.replaceChildren(title, list, foot, msg);
    var poll = null;
    var rows = {};
    var mine = null;

    function render(p) {
      poll = p;
      if (!p) {
        title.textContent = 'No poll right now';
        list.replaceChildren();
        foot.textContent = '';
        rows = {};
        return;
      }
      title.textContent = p.question || 'Poll';
      var key = p.id + ':' + p.options.join('|');
      if (root.dataset.poll !== key) {
        root.dataset.poll = key;
        rows = {};
        mine = null;
        list.replaceChildren();
        p.options.forEach(function (o) {
          var btn = el('button', 'vote-option');
          btn.type = 'button';
          btn.dataset.option = o;
          var bar = el('span', 'vote-bar');
          var label = el('span', 'vote-label', (p.labels && p.labels[o]) || o);
          var count = el('span', 'vote-count', '0');
          btn.append(bar, label, count);
          btn.addEventListener('click', function () { cast(o); });
          list.append(btn);
          rows[o] = { btn: btn, bar: bar, count: count };
        });
      }
      var total = p.total || 0;
      p.options.forEach(function (o) {
        var n = (p.counts && p.counts[o]) || 0;
        var pct = total ? Math.round((n / total) * 100) : 0;
        rows[o].bar.style.width = pct + '%';
        rows[o].count.textContent = n + ' · ' + pct + '%';
        rows[o].btn.classList.toggle('mine', mine === o);
      });
      foot.textContent = total + (total === 1 ? ' vote' : ' votes');
    }

    function cast(option) {
      msg.textContent = '';
      socket.emit('vote:cast', { option: option }, function (res) {
        if (res && res.ok) {
          mine = option;
          msg.textContent = 'Vote counted.';
          if (poll) render(poll);
        } else {
          var e = (res && res.error) || {};
          msg.textContent = messages[e.code] || e.message || 'The vote was not counted.';
        }
      });
    }

    socket.on('poll:update', function (m) { render(m.poll); });
    function load() {
      socket.emit('poll:get', {}, function (res) { if (res && res.ok) render(res.poll); });
    }
    socket.on('connect', load);
    if (socket.connected) load();
    return { render: render, cast: cast };
  }
  window.VoteWidget = { mount: mount };
})();
