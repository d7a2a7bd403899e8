import { expect } from 'chai';
import { buildFfmpegArgs, escapeTeeUrl, parseRtmpUrls, redact, type EncodeSettings } from '../src/render/ffmpeg/args.js';

const base: EncodeSettings = {
  width: 1280,
  height: 720,
  fps: 30,
  videoBitrate: '2500k',
  audioBitrate: '128k',
  outputs: ['rtmp://a.example:1935/live/sk_live_123'],
};

const head = [
  '-hide_banner', '-loglevel', 'warning', '-nostdin', '-nostats', '-progress', 'pipe:3',
  '-f', 'rawvideo', '-pix_fmt', 'rgba', '-s', '1280x720', '-r', '30', '-i', 'pipe:0',
  '-f', 'lavfi', '-i', 'anullsrc=channel_layout=stereo:sample_rate=44100',
  '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-threads', '2',
  '-profile:v', 'main', '-coder', 'cabac', '-pix_fmt', 'yuv420p',
  '-b:v', '2500k', '-minrate', '2500k', '-maxrate', '2500k', '-bufsize', '1024k',
  '-x264-params', 'nal-hrd=cbr',
  '-g', '60', '-keyint_min', '60', '-sc_threshold', '0',
  '-c:a', 'aac', '-b:a', '128k', '-ar', '44100', '-ac', '2',
  '-map', '0:v', '-map', '1:a', '-shortest',
];

describe('buildFfmpegArgs', () => {
  it('one output: plain FLV to the URL', () => {
    expect(buildFfmpegArgs(base)).to.deep.equal([
      ...head,
      '-f', 'flv', '-flvflags', 'no_duration_filesize', '-rw_timeout', '10000000',
      'rtmp://a.example:1935/live/sk_live_123',
    ]);
  });

  it('two outputs: one encode, tee muxer, each destination may fail alone', () => {
    const args = buildFfmpegArgs({
      ...base,
      outputs: ['rtmp://a.example:1935/live/sk_live_123', 'rtmp://b.example/app/sk_live_123'],
    });
    expect(args).to.deep.equal([
      ...head,
      '-flags', '+global_header', '-f', 'tee',
      '[f=flv:onfail=ignore:flvflags=no_duration_filesize:rw_timeout=10000000]rtmp://a.example:1935/live/sk_live_123' +
        '|[f=flv:onfail=ignore:flvflags=no_duration_filesize:rw_timeout=10000000]rtmp://b.example/app/sk_live_123',
    ]);
    expect(args.filter((a) => a === 'libx264')).to.have.length(1);
  });

  it('keyframe interval follows the frame rate (2 s)', () => {
    const args = buildFfmpegArgs({ ...base, fps: 25, width: 640, height: 360 });
    expect(args[args.indexOf('-g') + 1]).to.equal('50');
    expect(args[args.indexOf('-keyint_min') + 1]).to.equal('50');
    expect(args[args.indexOf('-s') + 1]).to.equal('640x360');
  });

  it('AUDIO_FILE: the file looped for ever instead of silence, normalised to the chosen loudness', () => {
    const args = buildFfmpegArgs({ ...base, audioFile: '/srv/music/bed.mp3', loudnessLufs: -23 });
    expect(args).to.deep.equal([
      ...head.slice(0, head.indexOf('-f', 10)),
      '-stream_loop', '-1', '-i', '/srv/music/bed.mp3',
      ...head.slice(head.indexOf('-c:v'), head.indexOf('-c:a')),
      '-af', 'loudnorm=I=-23:TP=-2:LRA=7',
      ...head.slice(head.indexOf('-c:a')),
      '-f', 'flv', '-flvflags', 'no_duration_filesize', '-rw_timeout', '10000000',
      'rtmp://a.example:1935/live/sk_live_123',
    ]);
    expect(buildFfmpegArgs({ ...base, audioFile: '/a.ogg' })).to.include('loudnorm=I=-23:TP=-2:LRA=7');
  });

  it('refuses an empty output list', () => {
    expect(() => buildFfmpegArgs({ ...base, outputs: [] })).to.throw(/at least one output/);
  });

  it('escapes the characters tee treats specially in a URL', () => {
    expect(escapeTeeUrl("rtmp://h/app?a=1|b='x'\\")).to.equal("rtmp://h/app?a=1\\|b=\\'x\\'\\\\");
  });
});

describe('parseRtmpUrls', () => {
  it('appends the key to one base URL, ignoring a trailing slash', () => {
    expect(parseRtmpUrls('rtmp://localhost:1935/live/', 'k1')).to.deep.equal(['rtmp://localhost:1935/live/k1']);
  });

  it('splits on commas and whitespace', () => {
    expect(parseRtmpUrls(' rtmp://a/live, rtmps://b:443/app\n rtmp://c/x ', 'key')).to.deep.equal([
      'rtmp://a/live/key',
      'rtmps://b:443/app/key',
      'rtmp://c/x/key',
    ]);
  });

  it('gives nothing for an empty value and rejects what is not RTMP', () => {
    expect(parseRtmpUrls(' , ', 'key')).to.deep.equal([]);
    expect(() => parseRtmpUrls('http://a/live', 'key')).to.throw(/not an RTMP URL/);
  });
});

describe('redact', () => {
  it('replaces every occurrence of the key', () => {
    const line = "[tee @ 0x1] Slave '[f=flv]rtmp://h/live/supersecret42': error; retry rtmp://h/live/supersecret42";
    const out = redact(line, 'supersecret42');
    expect(out).to.not.include('supersecret42');
    expect(out).to.equal("[tee @ 0x1] Slave '[f=flv]rtmp://h/live/supe…(13)': error; retry rtmp://h/live/supe…(13)");
  });

  it('matches the key as a whole token only, so a short key does not mangle words', () => {
    expect(redact('spawn /nonexistent/ffmpeg ENOENT; rtmp://h/live/x: refused', 'x')).to.equal(
      'spawn /nonexistent/ffmpeg ENOENT; rtmp://h/live/****: refused',
    );
    expect(redact("'rtmp://h/live/ab-1'|rtmp://h/live/ab-12", 'ab-1')).to.equal("'rtmp://h/live/****'|rtmp://h/live/ab-12");
  });

  it('leaves text without the key alone', () => {
    expect(redact('Connection refused', 'supersecret42')).to.equal('Connection refused');
    expect(redact('anything', '')).to.equal('anything');
  });
});
