// Pure parts of src/security: redaction, log escaping, trusted-proxy addresses, voter cookies,
// the Origin and Content-Type rules, the HOST default and the start-up line.
import http from 'node:http';
import { expect } from 'chai';
import { escapeLogText, fingerprint, redactBody, redactText, redactedKey } from '../../src/redact.js';
import { clientAddress, compileTrust, normalizeAddress } from '../../src/security/addresses.js';
import { VoterIdentity, readCookie, voterSetCookie } from '../../src/security/voters.js';
import { isJsonType } from '../../src/security/http-guards.js';
import { originAllowed, parseOrigins, tokenMatches, bearerOf } from '../../src/security/trust.js';
import { exposureLine } from '../../src/security/index.js';
import { LogOnce } from '../../src/security/budgets.js';
import { parseConfig } from '../../src/config.js';
import { keyFingerprint } from '../../src/render/scenes/testcard.js';

const KEY = 'live_8f3kQ2mZxv9TtY';

describe('security: redaction', () => {
  const texts: [string, string][] = [
    ['JSON state dump', `current state in Redis: {"active":"true","stream_key":"${KEY}","fps":"15"}`],
    ['camelCase JSON', `{"streamKey":"${KEY}"}`],
    ['query pair', `GET /api/stream?stream_key=${KEY}&x=1`],
    ['key=value', `stop streamKey=${KEY} now`],
    ['rtmp URL', `ffmpeg -f flv rtmp://a.rtmp.youtube.com/live2/${KEY}`],
    ['rtmps URL with port', `pushing to rtmps://live.twitch.tv:443/app/${KEY}?bandwidthtest=true`],
    ['rtmp URL quoted', `destination "rtmp://127.0.0.1:1935/live/${KEY}" failed`],
    ['rtmp URL at end', `rtmp://host/live/${KEY}`],
  ];
  for (const [label, text] of texts) {
    it(`hides the key in a ${label}`, () => {
      const out = redactText(text);
      expect(out).to.not.include(KEY);
      expect(out).to.include(`#${fingerprint(KEY)}`);
    });
  }
  it('leaves text without keys alone (and fast)', () => {
    for (const t of ['web listening on http://localhost:3000', 'poll 12 opened', '']) expect(redactText(t)).to.equal(t);
  });
  it('redacts key fields and URLs anywhere in a response body, and nothing else', () => {
    const body = { streams: [{ streamKey: KEY, health: 'live', destinations: [{ url: `rtmp://h/app/${KEY}` }] }], stream_key: KEY, count: 1, task_id: 'abc' };
    const out = JSON.stringify(redactBody(body));
    expect(out).to.not.include(KEY);
    expect(out).to.include('"count":1').and.include('"task_id":"abc"').and.include('"health":"live"');
    expect(redactedKey(KEY)).to.equal(`[redacted #${fingerprint(KEY)}]`);
  });
  it('the test card shows the same 4-digit fingerprint as the responses', () => {
    expect(keyFingerprint(KEY)).to.equal(fingerprint(KEY)).and.match(/^[0-9a-f]{4}$/);
  });

  const forged: [string, string][] = [
    ['newline', 'bob\n2026-01-01T00:00:00Z info [APP] admin logged in'],
    ['carriage return', 'bob\rfake'],
    ['tab', 'bob\tx'],
    ['NUL', 'bob\u0000x'],
    ['ANSI escape', 'bob\u001b[31mred'],
    ['DEL', 'bob\u007fx'],
    ['C1 NEL', 'bob\u0085x'],
    ['line separator', 'bob\u2028x'],
    ['paragraph separator', 'bob\u2029x'],
  ];
  for (const [label, text] of forged) {
    it(`escapes a ${label} in user text for a log line`, () => {
      const out = escapeLogText(text);
      expect(out).to.not.match(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
      expect(out.startsWith('bob')).to.equal(true);
    });
  }
  it('bounds a long log message', () => {
    expect(escapeLogText('x'.repeat(5000), 100)).to.have.length.below(130);
  });
});

describe('security: client addresses behind proxies (TRUST_PROXY)', () => {
  const req = (peer: string, xff?: string) =>
    ({ socket: { remoteAddress: peer }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as unknown as http.IncomingMessage;
  const cases: [string, string, string | undefined, string][] = [
    ['false', '127.0.0.1', '10.0.0.9', '127.0.0.1'],
    ['false', '::ffff:127.0.0.1', undefined, '127.0.0.1'],
    ['true', '127.0.0.1', '10.0.0.9', '10.0.0.9'],
    ['true', '127.0.0.1', '1.1.1.1, 10.0.0.9', '1.1.1.1'],
    ['1', '127.0.0.1', '1.1.1.1, 10.0.0.9', '10.0.0.9'],
    ['2', '127.0.0.1', '1.1.1.1, 10.0.0.9', '1.1.1.1'],
    ['loopback', '127.0.0.1', '10.0.0.9', '10.0.0.9'],
    ['loopback', '192.168.1.5', '10.0.0.9', '192.168.1.5'],
    ['loopback', '::1', '203.0.113.7', '203.0.113.7'],
    ['loopback, uniquelocal', '127.0.0.1', '203.0.113.7, 10.1.2.3', '203.0.113.7'],
    ['10.0.0.0/8', '10.9.9.9', '203.0.113.7', '203.0.113.7'],
    ['10.0.0.0/8', '11.9.9.9', '203.0.113.7', '11.9.9.9'],
    ['10.0.0.1', '10.0.0.1', '203.0.113.7', '203.0.113.7'],
    ['loopback', '127.0.0.1', '', '127.0.0.1'],
    ['loopback', '127.0.0.1', undefined, '127.0.0.1'],
  ];
  for (const [setting, peer, xff, want] of cases) {
    it(`TRUST_PROXY=${setting}, peer ${peer}, X-Forwarded-For ${JSON.stringify(xff)} → ${want}`, () => {
      expect(clientAddress(req(peer, xff), compileTrust(setting))).to.equal(want);
    });
  }
  it('refuses a TRUST_PROXY entry that is no address', () => {
    expect(() => compileTrust('loopback, nonsense')).to.throw(/TRUST_PROXY/);
  });
  it('normalises IPv4-mapped IPv6', () => {
    expect(normalizeAddress('::ffff:10.0.0.1')).to.equal('10.0.0.1');
    expect(normalizeAddress(undefined)).to.equal('unknown');
  });
});

describe('security: voter cookies', () => {
  const id = new VoterIdentity('a-secret-of-sixteen+');
  const other = new VoterIdentity('another-secret-16chars');
  it('mints identities that verify, and only with the same key', () => {
    const m = id.mint();
    expect(id.verify(m.cookie)).to.equal(m.voterId);
    expect(other.verify(m.cookie)).to.equal(null);
    expect(id.fromCookieHeader(`a=1; sf_voter=${m.cookie}; b=2`)).to.equal(m.voterId);
  });
  it('mints a different identity every time', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => id.mint().voterId));
    expect(ids.size).to.equal(1000);
  });
  const m = id.mint();
  const bad: [string, string | undefined][] = [
    ['missing', undefined],
    ['empty', ''],
    ['an old unsigned UUID', '0f8fad5b-d9cb-469f-a165-70867728950e'],
    ['no signature', `${m.voterId}.`],
    ['no id', `.${m.cookie.split('.')[1]}`],
    ['a tampered id', `x${m.cookie.slice(1)}`],
    ['a tampered signature', `${m.cookie.slice(0, -1)}${m.cookie.endsWith('A') ? 'B' : 'A'}`],
    ['a truncated signature', m.cookie.slice(0, -3)],
    ['an id with other characters', `a b.${m.cookie.split('.')[1]}`],
    ['very long', 'x'.repeat(5000)],
  ];
  for (const [label, value] of bad) {
    it(`refuses a cookie that is ${label}`, () => expect(id.verify(value)).to.equal(null));
  }
  it('sets an httpOnly, SameSite=Lax cookie (Secure over TLS)', () => {
    expect(voterSetCookie('v.s', false)).to.match(/^sf_voter=v\.s; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(voterSetCookie('v.s', true)).to.match(/; Secure$/);
    expect(readCookie('x=1;sf_voter=abc', 'sf_voter')).to.equal('abc');
  });
});

describe('security: who may drive the API', () => {
  const allowed = parseOrigins('https://overlay.example.com, https://studio.example.org/');
  const origins: [string | undefined, string, boolean][] = [
    [undefined, 'localhost:3000', true],
    ['http://localhost:3000', 'localhost:3000', true],
    ['http://127.0.0.1:3000', '127.0.0.1:3000', true],
    ['https://overlay.example.com', 'localhost:3000', true],
    ['https://studio.example.org', 'localhost:3000', true],
    ['http://localhost:3001', 'localhost:3000', false],
    ['http://evil.example', 'localhost:3000', false],
    ['https://localhost:3000.evil.example', 'localhost:3000', false],
    ['null', 'localhost:3000', false],
    ['file://', 'localhost:3000', false],
    ['chrome-extension://abc', 'localhost:3000', false],
    ['https://overlay.example.com.evil', 'localhost:3000', false],
    ['http://overlay.example.com', 'localhost:3000', false],
    ['not a url', 'localhost:3000', false],
    ['http://localhost:3000', '', false],
  ];
  for (const [origin, host, ok] of origins) {
    it(`${ok ? 'allows' : 'refuses'} Origin ${origin ?? '(none)'} on Host ${host || '(none)'}`, () => {
      expect(originAllowed(origin, host, allowed)).to.equal(ok);
    });
  }
  const types: [string | undefined, boolean][] = [
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['Application/JSON; Charset=UTF-8', true],
    ['application/json;charset="utf-8"', true],
    ['application/json; charset=latin1', false],
    ['application/json; charset=iso-8859-1', false],
    ['application/json; charset=utf-16', false],
    ['text/plain', false],
    ['text/plain; charset=utf-8', false],
    ['application/x-www-form-urlencoded', false],
    ['multipart/form-data; boundary=x', false],
    ['text/json', false],
    ['application/jsonx', false],
    ['application/ld+json', false],
    ['', false],
    [undefined, false],
  ];
  for (const [type, ok] of types) {
    it(`Content-Type ${JSON.stringify(type)} is ${ok ? '' : 'not '}JSON we read`, () => expect(isJsonType(type)).to.equal(ok));
  }
  it('compares tokens exactly', () => {
    expect(tokenMatches('secret-token', 'secret-token')).to.equal(true);
    expect(tokenMatches('secret-token', 'secret-tokeN')).to.equal(false);
    expect(tokenMatches('secret-token', '')).to.equal(false);
    expect(tokenMatches(undefined, 'x')).to.equal(false);
    expect(bearerOf('Bearer  abc ')).to.equal('abc');
    expect(bearerOf('Basic abc')).to.equal('');
  });
});

describe('security: listening address and the start-up line', () => {
  it('listens on 127.0.0.1 without API_TOKEN, on all interfaces with one, as HOST says otherwise', () => {
    expect(parseConfig({}).HOST).to.equal('127.0.0.1');
    expect(parseConfig({ API_TOKEN: 'long-enough-token' }).HOST).to.equal('0.0.0.0');
    expect(parseConfig({ HOST: '0.0.0.0' }).HOST).to.equal('0.0.0.0');
    expect(parseConfig({ HOST: '', API_TOKEN: '' }).HOST).to.equal('127.0.0.1');
  });
  it('says who can reach the control API', () => {
    expect(exposureLine(parseConfig({})).text).to.match(/only this machine/);
    expect(exposureLine(parseConfig({ HOST: '0.0.0.0' }))).to.include({ level: 'warn' });
    expect(exposureLine(parseConfig({ API_TOKEN: 'long-enough-token' })).text).to.match(/bearer token/);
  });
  it('has budget defaults a script meets and an audience does not', () => {
    const c = parseConfig({});
    expect(c.LIMIT_VOTES_PER_POLL).to.equal(20);
    expect(c.TRUST_PROXY).to.equal('false');
  });
  it('says an over-budget address once a minute', () => {
    const once = new LogOnce(60_000);
    expect(once.shouldLog('a', 0)).to.equal(true);
    expect(once.shouldLog('a', 59_000)).to.equal(false);
    expect(once.shouldLog('b', 59_000)).to.equal(true);
    expect(once.shouldLog('a', 60_000)).to.equal(true);
  });
});
