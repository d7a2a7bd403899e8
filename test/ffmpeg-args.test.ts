import { expect } from 'chai';
import { buildDestinationArgs, buildEncoderArgs, buildHlsArgs, inputFrameBytes, parseRtmpUrls, redact, redactSecretsOf, redactUrl, type EncodeSettings } from '../src/render/ffmpeg/args.js';

const base: EncodeSettings = {
  width: 1280,
  height: 720,
  fps: 30,
  videoBitrate: '2500k',
  audioBitrate: '128k',
};

const global = ['-hide_banner', '-loglevel', 'warning', '-nostdin', '-nostats', '-progress', 'pipe:3'];
const copyInput = ['-flags', 'low_delay', '-analyzeduration', '500000', '-f', 'mpegts', '-i', 'pipe:0', '-map', '0', '-c', 'copy'];

describe('buildEncoderArgs', () => {
  it('one encode: raw frames + silent audio → H.264 Main CBR + AAC in MPEG-TS on stdout', () => {
    expect(buildEncoderArgs(base)).to.deep.equal([
      ...global,
      '-f', 'rawvideo', '-pix_fmt', 'rgba', '-s', '1280x720', '-r', '30', '-i', 'pipe:0',
      '-f', 'lavfi', '-i', 'anullsrc=channel_layout=stereo:sample_rate=44100',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-threads', '2',
      '-profile:v', 'main', '-coder', 'cabac', '-pix_fmt', 'yuv420p',
      '-b:v', '2500k', '-minrate', '2500k', '-maxrate', '2500k', '-bufsize', '1024k',
      '-x264-params', 'nal-hrd=cbr:qpmin=16',
      '-g', '60', '-keyint_min', '60', '-sc_threshold', '0',
      '-c:a', 'aac', '-b:a', '128k', '-ar', '44100', '-ac', '2',
      '-map', '0:v', '-map', '1:a', '-shortest',
      '-f', 'mpegts', '-flush_packets', '1', '-muxdelay', '0', '-muxpreload', '0', '-omit_video_pes_length', '0', 'pipe:1',
    ]);
  });

  it('I420 from the render thread (libyuv, issue 14): yuv420p rawvideo in, every other argument the same', () => {
    const rgba = buildEncoderArgs(base);
    const at = rgba.indexOf('rgba');
    expect(rgba.slice(at - 3, at + 1)).to.deep.equal(['-f', 'rawvideo', '-pix_fmt', 'rgba']);
    expect(buildEncoderArgs({ ...base, inputPixFmt: 'yuv420p' })).to.deep.equal([...rgba.slice(0, at), 'yuv420p', ...rgba.slice(at + 1)]);
    expect(buildEncoderArgs({ ...base, inputPixFmt: 'rgba' })).to.deep.equal(rgba);
  });

  it('an input frame is width×height×4 bytes of RGBA, ×1.5 of I420', () => {
    expect(inputFrameBytes(base)).to.equal(1280 * 720 * 4);
    expect(inputFrameBytes({ ...base, inputPixFmt: 'yuv420p' })).to.equal(1280 * 720 * 1.5);
  });

  it('no global header: SPS/PPS repeat at each keyframe, so an output can join at any of them', () => {
    const args = buildEncoderArgs(base);
    expect(args.join(' ')).not.to.include('global_header');
    expect(args.filter((a) => a === 'libx264')).to.have.length(1);
    expect(args.join(' ')).not.to.match(/rtmp|tee|flv/);
  });

  it('keyframe interval follows the frame rate (2 s)', () => {
    const args = buildEncoderArgs({ ...base, fps: 25, width: 640, height: 360 });
    expect(args[args.indexOf('-g') + 1]).to.equal('50');
    expect(args[args.indexOf('-keyint_min') + 1]).to.equal('50');
    expect(args[args.indexOf('-s') + 1]).to.equal('640x360');
  });
});

describe('buildEncoderArgs with AUDIO_FILE', () => {
  it('loops the file for ever instead of silence, normalised to the chosen loudness', () => {
    const args = buildEncoderArgs({ ...base, audioFile: '/srv/music/bed.mp3', loudnessLufs: -23 });
    const silent = buildEncoderArgs(base);
    expect(args).to.deep.equal([
      ...silent.slice(0, silent.indexOf('lavfi') - 1),
      '-stream_loop', '-1', '-i', '/srv/music/bed.mp3',
      ...silent.slice(silent.indexOf('-c:v'), silent.indexOf('-c:a')),
      '-af', 'loudnorm=I=-23:TP=-2:LRA=7',
      ...silent.slice(silent.indexOf('-c:a')),
    ]);
    expect(buildEncoderArgs({ ...base, audioFile: '/a.ogg' })).to.include('loudnorm=I=-23:TP=-2:LRA=7');
  });
});

describe('buildDestinationArgs / buildHlsArgs', () => {
  it('a destination copies the stream (no encoder) to FLV over RTMP', () => {
    expect(buildDestinationArgs('rtmp://a.example:1935/live/sk_live_123')).to.deep.equal([
      ...global, ...copyInput,
      '-f', 'flv', '-flvflags', 'no_duration_filesize', '-flush_packets', '1', '-rw_timeout', '10000000', 'rtmp://a.example:1935/live/sk_live_123',
    ]);
  });

  it('HLS: 2 s segments in a rolling playlist of 6, old segments deleted', () => {
    expect(buildHlsArgs('/tmp/hls/k1')).to.deep.equal([
      ...global, ...copyInput,
      '-f', 'hls', '-hls_time', '2', '-hls_list_size', '6', '-hls_flags', 'delete_segments+omit_endlist+temp_file',
      '-hls_segment_filename', '/tmp/hls/k1/seg%d.ts', '/tmp/hls/k1/index.m3u8',
    ]);
  });
});

describe('redactUrl / redactSecretsOf', () => {
  it('hides the last path segment (the key) and any query', () => {
    expect(redactUrl('rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl')).to.equal('rtmp://a.rtmp.youtube.com/live2/abcd…(14)');
    expect(redactUrl('rtmps://live.example:443/app/key1?token=s3cret')).to.equal('rtmps://live.example:443/app/****?…');
    expect(redactUrl('rtmp://user:pw@h/app/longkey99')).to.equal('rtmp://…@h/app/long…(9)');
    expect(redactUrl('not a url')).to.equal('…');
  });

  it('removes a destination key and query from FFmpeg messages', () => {
    const url = 'rtmp://h:1935/live/platformKey42?auth=zz9';
    const line = 'rtmp://h:1935/live/platformKey42?auth=zz9: Connection refused';
    const out = redactSecretsOf(line, url);
    expect(out).not.to.include('platformKey42');
    expect(out).not.to.include('zz9');
    expect(out).to.equal('rtmp://h:1935/live/plat…(13)?…: Connection refused');
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
