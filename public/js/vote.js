// vote.html: moved out of the page so the Content-Security-Policy can forbid inline script.
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const state = { poll: null, votedFor: null, busy: false };
  const votedKey = (id) => 'sf_voted_' + id;

  function setStatus(text, kind) {
    const el = $('status');
    el.textContent = text || '';
    el.className = kind || '';
  }

  function fmt(n) { return Number(n).toLocaleString('en-US'); }

  function countdown() {
    const el = $('countdown');
    const p = state.poll;
    if (!p || !p.endsAt) { el.hidden = true; return; }
    const left = Date.parse(p.endsAt) - Date.now();
    el.hidden = false;
    if (left <= 0) { el.textContent = 'CLOSED'; el.classList.remove('soon'); return; }
    const s = Math.ceil(left / 1000);
    el.textContent = Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
    el.classList.toggle('soon', left <= 10000);
  }

  // Draws a poll view ({id, question, options: [{key, label, votes, percent}], total, endsAt}).
  // Exposed so a realtime transport can push updates too.
  function applyPoll(p) {
    const container = $('options');
    if (!p) {
      state.poll = null;
      $('question').textContent = 'No poll right now';
      container.innerHTML = '<p class="empty">The next poll starts soon. This page updates by itself.</p>';
      $('total').textContent = ''; $('pollid').textContent = '';
      countdown();
      return;
    }
    const changed = !state.poll || state.poll.id !== p.id || state.poll.options.length !== p.options.length;
    if (changed) {
      state.votedFor = localStorage.getItem(votedKey(p.id));
      if (state.poll && state.poll.id !== p.id) setStatus('A new poll is up: pick your fighter!', 'ok');
      container.textContent = '';
      p.options.forEach((o, i) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'option o' + (i % 4);
        b.dataset.key = o.key;
        b.innerHTML = '<span class="bar"></span><span class="key"></span><span class="label"></span>' +
          '<span class="nums"><span class="pct"></span><span class="count"></span></span>';
        b.querySelector('.key').textContent = o.key;
        b.querySelector('.label').textContent = o.label;
        b.addEventListener('click', () => vote(o.key, o.label));
        container.appendChild(b);
      });
    }
    state.poll = p;
    $('question').textContent = p.question;
    const ended = !!p.closedAt || (p.endsAt && Date.parse(p.endsAt) <= Date.now());
    p.options.forEach((o, i) => {
      const b = container.children[i];
      b.querySelector('.bar').style.width = o.percent + '%';
      b.querySelector('.pct').textContent = o.percent + '%';
      b.querySelector('.count').textContent = fmt(o.votes) + (o.votes === 1 ? ' vote' : ' votes');
      b.classList.toggle('chosen', state.votedFor === o.key);
      b.setAttribute('aria-pressed', String(state.votedFor === o.key));
      b.disabled = state.busy || !!state.votedFor || !!ended;
    });
    $('total').textContent = fmt(p.total) + (p.total === 1 ? ' vote' : ' votes');
    $('pollid').textContent = 'poll #' + p.id;
    countdown();
  }

  async function refresh() {
    try {
      const res = await fetch('/api/poll', { cache: 'no-store' });
      if (res.status === 404) { applyPoll(null); return; }
      if (!res.ok) throw new Error('HTTP ' + res.status);
      let p = await res.json();
      // /vote?poll=<id> (a link or QR code of one poll): once another poll is on, that poll's result.
      const wanted = Number(new URLSearchParams(location.search).get('poll')) || null;
      if (wanted && p.id !== wanted) {
        const old = await fetch('/api/polls/' + wanted, { cache: 'no-store' });
        if (old.ok) {
          p = await old.json();
          setStatus('Poll #' + wanted + ' is over: these are its results. Vote in the current poll at /vote.', 'warn');
        }
      }
      applyPoll(p);
    } catch (err) {
      if (!state.poll) $('question').textContent = 'Cannot reach the server — retrying…';
    }
  }

  async function vote(key, label) {
    if (state.busy || state.votedFor || !state.poll) return;
    const pollId = state.poll.id;
    state.busy = true;
    applyPoll(state.poll);
    setStatus('Sending your vote…', '');
    try {
      const res = await fetch('/api/vote', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify({ option: key }),
      });
      const body = await res.json().catch(() => ({}));
      const reason = body && body.details && body.details.reason;
      if (res.ok) {
        state.votedFor = key;
        localStorage.setItem(votedKey(pollId), key);
        setStatus('Thanks! Your vote for ' + label + ' is in.', 'ok');
        if (body.poll) applyPoll(body.poll);
      } else if (res.status === 409 && reason === 'already_voted') {
        state.votedFor = state.votedFor || localStorage.getItem(votedKey(pollId)) || '?';
        localStorage.setItem(votedKey(pollId), state.votedFor);
        setStatus('You already voted in this poll.', 'warn');
      } else if (res.status === 409) {
        setStatus('This poll has closed. Fetching the new one…', 'warn');
      } else if (res.status === 404) {
        setStatus('There is no poll open right now.', 'warn');
      } else {
        setStatus((body && body.message) || ('Something went wrong (HTTP ' + res.status + ').'), 'err');
      }
    } catch (err) {
      setStatus('Could not send your vote. Check your connection and try again.', 'err');
    } finally {
      state.busy = false;
      if (state.poll) applyPoll(state.poll);
      refresh();
    }
  }

  window.sfApplyPoll = applyPoll;
  refresh();
  setInterval(refresh, 1000);
  setInterval(countdown, 250);
})();
