// The one start-up banner of `npm start`: where everything is, and how to reach the private Redis.
export interface BannerInfo {
  port: number;
  streamKey: string;
  /** RTMP base URL broadcasts go to; null when there is no FFmpeg (previews only). */
  rtmp: string | null;
  redisUrl: string;
  privateRedis: boolean;
  database: string;
}

export function banner(b: BannerInfo): string {
  const http = `http://localhost:${b.port}`;
  const redis = new URL(b.redisUrl);
  if (redis.password) redis.password = '***';
  const cli = `redis-cli -h ${redis.hostname} -p ${redis.port || 6379}`;
  const playback =
    b.rtmp === null
      ? 'previews only (no FFmpeg): ' + `${http}/viewer.html?key=${b.streamKey}`
      : b.rtmp === 'off'
        ? 'off (RTMP_URL=off): previews at ' + `${http}/viewer.html?key=${b.streamKey}`
        : `ffplay ${b.rtmp.replace('127.0.0.1', 'localhost')}/${b.streamKey}   (preview: ${http}/viewer.html?key=${b.streamKey})`;
  const rows: Array<[string, string]> = [
    ['dashboard', `${http}/`],
    ['vote', `${http}/vote.html`],
    ['playback', playback],
    ['redis', `${redis.toString()}${b.privateRedis ? ' (private, not kept)' : ''}   ${cli}`],
    ['database', b.database],
  ];
  return ['', 'Stream Fighter is up', ...rows.map(([k, v]) => `  ${k.padEnd(10)}${v}`), '  Ctrl-C stops everything.', ''].join('\n') + '\n';
}
