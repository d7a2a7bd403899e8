// Frames per second of a counter read at scrape time: over the last few seconds of reads, or
// since the previous read when scrapes are further apart. Used for streams without a broadcast
// (a broadcast's fps is FFmpeg's own, from its progress).
export class RateSampler {
  private samples: Array<{ t: number; v: number }> = [];

  constructor(private readonly windowMs = 5000) {}

  /** Records a reading and answers the rate per second (0 until two readings). */
  sample(value: number, now = performance.now()): number {
    const s = this.samples;
    s.push({ t: now, v: value });
    // Keep one reading older than the window as the anchor, so sparse scrapes still get a rate.
    while (s.length > 2 && now - s[1].t >= this.windowMs) s.shift();
    if (s.length < 2) return 0;
    const first = s[0];
    const seconds = (now - first.t) / 1000;
    if (seconds <= 0 || value < first.v) return 0;
    return Math.round(((value - first.v) / seconds) * 10) / 10;
  }
}
