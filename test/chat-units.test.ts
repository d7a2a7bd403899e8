// src/chat's pure parts: the IRC line parser, which messages are votes, the announcement
// rate limiter, backoff, the messages/s meter, token redaction, config, and the chat hint on air.
import { expect } from 'chai';
import { createCanvas } from '@napi-rs/canvas';
import { parseIrcLine, privmsg, MAX_LINE } from '../src/chat/irc.js';
import { parseVote, voteCommands, voterIdOf } from '../src/chat/votes.js';
import { SayLimiter, pollLine, resultLine } from '../src/chat/announce.js';
import { RateMeter } from '../src/chat/bridge.js';
import { backoffDelay, scrub } from '../src/chat/types.js';
import { withChat } from '../src/chat/on-air.js';
import { redactText } from '../src/redact.js';
import { parseConfig, ConfigError } from '../src/config.js';
import { buildView, toOptions } from '../src/polls/tally.js';
import { drawPoll } from '../src/render/scenes/poll.js';
import { registerFonts } from '../src/render/fonts.js';

const view = (counts: Record<string, number> = {}) =>
  buildView(
    { id: 7, question: 'Who wins?', options: toOptions({ question: '', options: ['Ryu', 'Ken', 'Chun-Li'] }), createdAt: new Date().toISOString(), endsAt: null, closedAt: null },
    counts,
  );

describe('chat: IRC lines', () => {
  it('parses a Twitch PRIVMSG with tags (escapes undone), prefix and trailing text', () => {
    const m = parseIrcLine('@badge-info=;display-name=Ryu\\sFan;user-id=12345;msg=a\\:b\\\\c :ryufan!ryufan@ryufan.tmi.twitch.tv PRIVMSG #sf :!vote a')!;
    expect(m.command).to.equal('PRIVMSG');
    expect(m.prefix).to.equal('ryufan!ryufan@ryufan.tmi.twitch.tv');
    expect(m.params).to.deep.equal(['#sf', '!vote a']);
    expect(m.tags).to.include({ 'display-name': 'Ryu Fan', 'user-id': '12345', 'badge-info': '', msg: 'a;b\\c' });
  });

  it('parses PING, numerics and NOTICE; refuses garbage, empty and oversized lines', () => {
    expect(parseIrcLine('PING :tmi.twitch.tv')).to.deep.include({ command: 'PING', params: ['tmi.twitch.tv'] });
    expect(parseIrcLine(':tmi.twitch.tv 001 bot :Welcome, GLHF!')).to.deep.include({ command: '001', params: ['bot', 'Welcome, GLHF!'] });
    expect(parseIrcLine(':tmi.twitch.tv NOTICE * :Login authentication failed')!.params[1]).to.equal('Login authentication failed');
    for (const bad of ['', '@', '@only-tags', ':prefix-only', '@a=b :p', '!!! ###', ':p 12 x']) expect(parseIrcLine(bad), bad).to.equal(null);
    expect(parseIrcLine(`PRIVMSG #sf :${'x'.repeat(MAX_LINE)}`)).to.equal(null);
  });

  it('builds one PRIVMSG line: CR/LF cannot start a second command, 500 characters at most', () => {
    expect(privmsg('sf', 'hi\r\nPRIVMSG #other :spam')).to.equal('PRIVMSG #sf :hi PRIVMSG #other :spam');
    expect([...privmsg('sf', 'é'.repeat(900)).split(' :')[1]].length).to.equal(500);
  });
});

describe('chat: votes', () => {
  it('accepts !vote A, !A and (configured) a bare A, any case, with blanks around', () => {
    for (const t of ['!vote A', '!VOTE b', '  !vote   c ', '!A', '!d', ' !B ']) expect(parseVote(t, { bare: false }), t).to.match(/^[A-D]$/);
    expect(parseVote('a', { bare: false })).to.equal(null);
    expect(parseVote('a', { bare: true })).to.equal('A');
    expect(parseVote(' C ', { bare: true })).to.equal('C');
  });

  it('ignores chatter, several options, and long text', () => {
    for (const t of ['hello', '!vote', '!vote AB', '!AB', 'A B', '!votea', 'vote A', '!vote A please', `!A${' '.repeat(40)}`, 'ab'])
      expect(parseVote(t, { bare: true }), t).to.equal(null);
  });

  it('names the voter by platform account, and lists the commands', () => {
    expect(voterIdOf('twitch', '12345')).to.equal('twitch:12345');
    expect(voteCommands(['A', 'B', 'C'])).to.equal('!A, !B or !C');
  });
});

describe('chat: announcements', () => {
  it('SayLimiter sends at most perWindow lines per window, keeps only the newest when full, and sends the rest later', async () => {
    let now = 0;
    const sent: string[] = [];
    const lim = new SayLimiter((t) => (sent.push(t), true), { perWindow: 3, windowMs: 1000, maxQueue: 2, now: () => now });
    for (let i = 0; i < 6; i++) lim.say(`l${i}`);
    expect(sent).to.deep.equal(['l0', 'l1', 'l2']);
    expect(lim.pending).to.equal(2); // l3 gave way to l4, l5
    now = 1001;
    lim.say('l6');
    expect(sent).to.deep.equal(['l0', 'l1', 'l2', 'l5', 'l6']); // l4 dropped: the queue holds 2
    lim.close();
  });

  it('SayLimiter keeps a line while the connection is down and retries', async () => {
    let up = false;
    const sent: string[] = [];
    const lim = new SayLimiter((t) => up && (sent.push(t), true), { perWindow: 20 });
    lim.say('hello');
    expect(sent).to.deep.equal([]);
    up = true;
    await new Promise((r) => setTimeout(r, 1100));
    expect(sent).to.deep.equal(['hello']);
    lim.close();
  });

  it('announces a poll with its commands, and a result with the winner or a tie', () => {
    expect(pollLine(view())).to.include('Who wins?').and.include('A) Ryu').and.include('!A, !B or !C');
    expect(resultLine(view({ A: 3, B: 1 }))).to.include('A) Ryu with 3 of 4 votes (75%)');
    expect(resultLine(view({ A: 2, B: 2 }))).to.include('tie: A) Ryu and B) Ken');
    expect(resultLine(view())).to.include('no votes');
  });
});

describe('chat: helpers', () => {
  it('backoff doubles from min to max with at most 25 % jitter', () => {
    const b = { minMs: 1000, maxMs: 30_000 };
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, b, () => 0))).to.deep.equal([1000, 2000, 4000, 8000, 30_000]);
    expect(backoffDelay(0, b, () => 1)).to.equal(1250);
  });

  it('RateMeter: messages per second over the last whole seconds', () => {
    let now = 10_000;
    const m = new RateMeter(5, () => now);
    for (let s = 0; s < 5; s++) {
      m.add(100);
      now += 1000;
    }
    expect(m.perSecond()).to.equal(100);
    now += 10_000;
    expect(m.perSecond()).to.equal(0);
  });

  it('tokens are redacted in log text (oauth:…) and scrubbed wherever they appear', () => {
    expect(redactText('PASS oauth:abcd1234efgh')).to.equal('PASS oauth:[redacted]');
    expect(redactText('token OAUTH:xyz98765 refused')).to.equal('token OAUTH:[redacted] refused');
    expect(scrub('bad token abcd1234efgh here', 'abcd1234efgh')).to.equal('bad token [redacted] here');
  });

  it('config: channel normalised, oauth: prefix dropped, username required with a token, announce needs a token', () => {
    const c = parseConfig({ TWITCH_CHANNEL: '#StreamFighter', TWITCH_USERNAME: 'Bot', TWITCH_OAUTH_TOKEN: 'oauth:abcdef123456', CHAT_VOTE_BARE: 'true' });
    expect(c).to.include({ TWITCH_CHANNEL: 'streamfighter', TWITCH_USERNAME: 'bot', TWITCH_OAUTH_TOKEN: 'abcdef123456', CHAT_VOTE_BARE: true, CHAT_ANNOUNCE: false });
    expect(c.TWITCH_IRC_URL).to.equal('wss://irc-ws.chat.twitch.tv:443');
    expect(() => parseConfig({ TWITCH_OAUTH_TOKEN: 'abcdef123456', CHAT_ANNOUNCE: 'true', TWITCH_CHANNEL: 'a b' }))
      .to.throw(ConfigError)
      .with.property('problems')
      .that.satisfies((p: string[]) => p.some((x) => x.startsWith('TWITCH_USERNAME')) && p.some((x) => x.startsWith('TWITCH_CHANNEL')));
    expect(() => parseConfig({ CHAT_ANNOUNCE: 'true', TWITCH_CHANNEL: 'sf' })).to.throw(/CHAT_ANNOUNCE needs an account/);
  });

  it('withChat adds the chat field for the scene (and takes it away), and the scene draws the hint', () => {
    const v = view();
    expect(withChat(v, null)).to.equal(v);
    const on = withChat(v, { platform: 'twitch', channel: 'sf' });
    expect(on.chat).to.deep.equal({ platform: 'twitch', channel: 'sf' });
    expect(withChat(on, null).chat).to.equal(undefined);
    registerFonts();
    const texts = (poll: typeof v) => {
      const ctx = createCanvas(1280, 720).getContext('2d');
      const seen: string[] = [];
      const fill = ctx.fillText.bind(ctx);
      ctx.fillText = (t: string, x: number, y: number) => (seen.push(t), fill(t, x, y));
      drawPoll(ctx, { width: 1280, height: 720, frame: 0, timeMs: Date.now(), startedMs: 0, streamKey: 'k', fps: 30 }, { poll, shown: [0, 0, 0] });
      return seen.join('\n');
    };
    expect(texts(v)).not.to.include('in Twitch chat');
    expect(texts(on)).to.include('Type !A !B !C in Twitch chat · #sf');
  });
});
