// Reading an RTMP stream back with ffprobe, as a platform would see it.
import { execFile } from 'node:child_process';

export interface Probe {
  streams: Array<Record<string, string | number>>;
  packets: Array<{ codec_type: string; pts_time?: string; flags?: string; size?: string }>;
}

export function ffprobeRtmp(url: string, seconds: number): Promise<Probe> {
  return new Promise((resolve, reject) => {
    execFile(
      'ffprobe',
      ['-v', 'error', '-rw_timeout', '10000000', '-read_intervals', `%+${seconds}`, '-show_streams', '-show_packets', '-of', 'json', url],
      { timeout: (seconds + 15) * 1000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => (err ? reject(new Error(`ffprobe ${url}: ${stderr || err.message}`)) : resolve(JSON.parse(stdout))),
    );
  });
}

/** Seconds between consecutive video keyframes. */
export function keyframeIntervals(p: Probe): number[] {
  const t = p.packets.filter((k) => k.codec_type === 'video' && k.flags?.startsWith('K')).map((k) => Number(k.pts_time));
  return t.slice(1).map((v, i) => v - t[i]);
}

/** Video bitrate (kbit/s) over the probed packets, from their sizes and timestamps. */
export function videoKbps(p: Probe): number {
  const v = p.packets.filter((k) => k.codec_type === 'video');
  const bytes = v.reduce((n, k) => n + Number(k.size ?? 0), 0);
  const span = Number(v[v.length - 1].pts_time) - Number(v[0].pts_time);
  return (bytes * 8) / 1000 / span;
}
