// Poll generation: the built-in bank never repeats itself back to back; the chat-completions
// generator against a local stand-in for the provider (never the network) succeeds on a good
// answer and falls back to the bank on a timeout, an HTTP error, bad JSON or the wrong shape.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { POLL_BANK } from '../src/polls/bank.js';
import { BuiltinGenerator, ChatCompletionsGenerator, createGenerator, extractJson } from '../src/polls/generator.js';
import type { PollDraft } from '../src/polls/types.js';

type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;

async function provider(handler: Handler): Promise<{ url: string; requests: { headers: http.IncomingHttpHeaders; body: any; path: string }[]; close(): Promise<void> }> {
  const requests: { headers: http.IncomingHttpHeaders; body: any; path: string }[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: body ? JSON.parse(body) : null, path: req.url ?? '' });
      handler(req, body, res);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const answer = (content: string) => JSON.stringify({ id: 'x', choices: [{ index: 0, message: { role: 'assistant', content } }] });

/** A fallback that says it was used. */
class Marker {
  calls = 0;
  async generate(): Promise<PollDraft> {
    this.calls++;
    return { question: 'Fallback?', options: ['yes', 'no'] };
  }
}

describe('poll generator', function () {
  this.timeout(20_000);

  it('built-in: valid drafts from the bank, never the same question twice in a row', async () => {
    const g = new BuiltinGenerator();
    let prev: string | undefined;
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const d = await g.generate(prev);
      expect(d.question).to.not.equal(prev);
      expect(d.options.length).to.be.within(2, 4);
      seen.add(d.question);
      prev = d.question;
    }
    expect(seen.size).to.be.greaterThan(POLL_BANK.length / 2);
    // Even when the caller does not pass the previous question, and with a "random" stuck at 0.
    const stuck = new BuiltinGenerator(POLL_BANK, () => 0);
    const a = await stuck.generate();
    const b = await stuck.generate();
    expect(b.question).to.not.equal(a.question);
  });

  it('the bank itself is well-formed', () => {
    for (const d of POLL_BANK) {
      expect(d.options.length, d.question).to.be.within(2, 4);
      expect(new Set(d.options).size, d.question).to.equal(d.options.length);
      expect(d.question.length).to.be.lessThan(80);
    }
    expect(new Set(POLL_BANK.map((d) => d.question)).size).to.equal(POLL_BANK.length);
  });

  it('chat: asks the provider properly and uses a good answer (even wrapped in prose and fences)', async () => {
    const p = await provider((_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(answer('Here you go:\n```json\n{"question": "Ryu or Akuma?", "options": ["Ryu", "Akuma"]}\n```'));
    });
    try {
      const fallback = new Marker();
      const g = new ChatCompletionsGenerator({ apiKey: 'sk-test-secret', baseUrl: `${p.url}/`, model: 'test/model', fallback });
      const d = await g.generate('Who wins: Ryu or Ken?');
      expect(d).to.deep.equal({ question: 'Ryu or Akuma?', options: ['Ryu', 'Akuma'] });
      expect(fallback.calls).to.equal(0);
      const req = p.requests[0];
      expect(req.path).to.equal('/api/v1/chat/completions');
      expect(req.headers.authorization).to.equal('Bearer sk-test-secret');
      expect(req.body.model).to.equal('test/model');
      expect(req.body.messages.at(-1).content).to.include('Who wins: Ryu or Ken?');
    } finally {
      await p.close();
    }
  });

  it('chat: falls back to the bank when the provider does not answer in time', async () => {
    const p = await provider(() => {
      /* never answers */
    });
    try {
      const fallback = new Marker();
      const g = new ChatCompletionsGenerator({ apiKey: 'k', baseUrl: p.url, model: 'm', timeoutMs: 300, fallback });
      const t0 = Date.now();
      const d = await g.generate();
      expect(Date.now() - t0).to.be.within(250, 2000);
      expect(d.question).to.equal('Fallback?');
      expect(fallback.calls).to.equal(1);
    } finally {
      await p.close();
    }
  });

  it('chat: falls back on an HTTP error, bad JSON, a wrong shape, or a repeat', async () => {
    const cases: [string, (res: http.ServerResponse) => void][] = [
      ['HTTP 500', (res) => res.writeHead(500).end('upstream exploded')],
      ['HTTP 401', (res) => res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad key"}')],
      ['not JSON', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('<html>oops</html>')],
      ['no choices', (res) => res.writeHead(200).end('{"choices": []}')],
      ['content not JSON', (res) => res.writeHead(200).end(answer('Who wins? Ryu or Ken, obviously'))],
      ['one option', (res) => res.writeHead(200).end(answer('{"question": "Only one?", "options": ["Ryu"]}'))],
      ['five options', (res) => res.writeHead(200).end(answer('{"question": "Too many?", "options": ["a","b","c","d","e"]}'))],
      ['options not strings', (res) => res.writeHead(200).end(answer('{"question": "Numbers?", "options": [1, 2]}'))],
      ['duplicate options', (res) => res.writeHead(200).end(answer('{"question": "Twins?", "options": ["Ryu", "ryu"]}'))],
      ['the previous question again', (res) => res.writeHead(200).end(answer('{"question": "Same again?", "options": ["a", "b"]}'))],
    ];
    for (const [label, reply] of cases) {
      const p = await provider((_req, _body, res) => reply(res));
      try {
        const fallback = new Marker();
        const g = new ChatCompletionsGenerator({ apiKey: 'k', baseUrl: p.url, model: 'm', timeoutMs: 2000, fallback });
        const d = await g.generate('Same again?');
        expect(d.question, label).to.equal('Fallback?');
        expect(fallback.calls, label).to.equal(1);
      } finally {
        await p.close();
      }
    }
  });

  it('chat: never writes the API key to the logs', async () => {
    const p = await provider((_req, _body, res) => res.writeHead(401).end('{"error": "invalid key sk-or-v1-SECRET-123"}'));
    const written: string[] = [];
    const out = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    const capture = (chunk: any, ...rest: any[]) => {
      written.push(String(chunk));
      return true;
    };
    try {
      process.stdout.write = capture as any;
      process.stderr.write = capture as any;
      const g = new ChatCompletionsGenerator({ apiKey: 'sk-or-v1-SECRET-123', baseUrl: p.url, model: 'm', fallback: new Marker() });
      await g.generate();
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
      await p.close();
    }
    expect(written.join('')).to.match(/HTTP 401/);
    expect(written.join('')).to.not.include('SECRET');
  });

  it('chat: falls back when the provider cannot be reached at all', async () => {
    const p = await provider(() => undefined);
    const url = p.url;
    await p.close(); // nothing listens there now
    const fallback = new Marker();
    const d = await new ChatCompletionsGenerator({ apiKey: 'k', baseUrl: url, model: 'm', fallback }).generate();
    expect(d.question).to.equal('Fallback?');
  });

  it('createGenerator: the bank without a key, the chat generator with one', () => {
    const base = { OPENROUTER_BASE_URL: 'http://127.0.0.1:9/api/v1', OPENROUTER_MODEL: 'm' };
    expect(createGenerator(base)).to.be.instanceOf(BuiltinGenerator);
    expect(createGenerator({ ...base, OPENROUTER_API_KEY: 'k' })).to.be.instanceOf(ChatCompletionsGenerator);
  });

  it('extractJson finds the object in an answer', () => {
    expect(extractJson('sure! {"a": {"b": 1}} hope it helps')).to.deep.equal({ a: { b: 1 } });
    expect(() => extractJson('no json here')).to.throw(/no JSON/);
  });
});
