// MediaMTX publish credentials in RTMP_URL (`rtmp://host:1935/live?user=u&pass=p`): the stream key
// goes before the query, and the credentials never reach a log line or a response.
import { expect } from 'chai';
import { withStreamKey, redactBase } from '../src/render/rtmp-url.js';
import { parseRtmpUrls, redactUrl, redactSecretsOf } from '../src/render/ffmpeg/args.js';
import { defaultDestinations } from '../src/render/broadcast.js';
import { destinationInput } from '../src/streams/schema.js';
import { destinationViews } from '../src/streams/destinations.js';
import { redactText, redactBody } from '../src/redact.js';
import { logFormat } from '../src/logger.js';

const CREDS = 'rtmp://mediamtx:1935/live?user=publisher&pass=s3cret-pw';

describe('RTMP_URL with a query (MediaMTX publish credentials)', () => {
  it('appends the stream key to the path and keeps the query', () => {
    expect(withStreamKey(CREDS, 'show-1')).to.equal('rtmp://mediamtx:1935/live/show-1?user=publisher&pass=s3cret-pw');
    expect(withStreamKey('rtmp://h/live/?user=u&pass=p', 'k')).to.equal('rtmp://h/live/k?user=u&pass=p');
    expect(withStreamKey('rtmp://h/live', 'k')).to.equal('rtmp://h/live/k');
    expect(withStreamKey('rtmp://h/live//', 'k')).to.equal('rtmp://h/live/k');
  });

  it('parseRtmpUrls and the default destinations keep each base its own query', () => {
    expect(parseRtmpUrls(`${CREDS}, rtmp://b:1936/app`, 'k1')).to.deep.equal([
      'rtmp://mediamtx:1935/live/k1?user=publisher&pass=s3cret-pw',
      'rtmp://b:1936/app/k1',
    ]);
    expect(defaultDestinations(CREDS, 'k1')).to.deep.equal([
      { id: 'rtmp-1', url: 'rtmp://mediamtx:1935/live/k1?user=publisher&pass=s3cret-pw', name: 'RTMP_URL #1' },
    ]);
  });

  it('a bad base is named without its credentials', () => {
    expect(() => parseRtmpUrls('http://u:pw@h/live?user=u&pass=s3cret-pw', 'k')).to.throw('not an RTMP URL: http://…@h/live?…');
    expect(redactBase(CREDS)).to.equal('rtmp://mediamtx:1935/live?…');
  });

  it('a per-stream destination may carry them too, and its view hides them', () => {
    const url = 'rtmp://mediamtx:1935/live/my-key-123?user=publisher&pass=s3cret-pw';
    expect(destinationInput.safeParse({ url }).success).to.equal(true);
    const [view] = destinationViews({ destinations: JSON.stringify([{ id: 'd-1', url }]) });
    expect(view.url).to.equal('rtmp://mediamtx:1935/live/my-k…(10)?…');
    expect(JSON.stringify(view)).not.to.match(/s3cret|publisher|my-key-123/);
    expect(redactUrl('rtmp://publisher:s3cret-pw@h/live/my-key-123')).to.equal('rtmp://…@h/live/my-k…(10)');
  });

  it('FFmpeg output naming the URL is redacted with its query', () => {
    const url = withStreamKey(CREDS, 'my-key-123');
    const line = `[rtmp @ 0x1] Cannot open connection ${url}: Connection refused`;
    expect(redactSecretsOf(line, url)).to.equal('[rtmp @ 0x1] Cannot open connection rtmp://mediamtx:1935/live/my-k…(10)?…: Connection refused');
  });
});

describe('log redaction of RTMP credentials', () => {
  it('hides the query and user:password@ of any RTMP URL in a text', () => {
    const out = redactText(`publishing to ${withStreamKey(CREDS, 'my-key-123')} and rtmp://u:pw@h/live/k2`);
    expect(out).to.match(/^publishing to rtmp:\/\/mediamtx:1935\/live\/\[redacted #[0-9a-f]{4}\]\?\[redacted\] and rtmp:\/\/\[redacted\]@h\/live\/\[redacted #[0-9a-f]{4}\]$/);
    expect(out).not.to.match(/s3cret|publisher|my-key-123|pw@/);
    // A base without a key: the query is hidden all the same.
    expect(redactText(`RTMP_URL=${CREDS}`)).not.to.match(/s3cret/);
    expect(JSON.stringify(redactBody({ rtmp: CREDS, nested: [{ url: CREDS }] }))).not.to.match(/s3cret/);
  });

  it('every log line goes through it, in both formats', () => {
    for (const json of [true, false]) {
      const info = logFormat(json).transform({ level: 'info', message: `pushing to ${withStreamKey(CREDS, 'k-12345')}`, category: 'FFMPEG', url: CREDS } as never);
      const line = String((info as Record<symbol, unknown>)[Symbol.for('message')]);
      expect(line, line).not.to.match(/s3cret|k-12345/);
    }
  });
});
