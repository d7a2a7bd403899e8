// No scene draws a stream key: every scene is drawn with a canvas whose text calls are
// recorded (no OCR needed), at several frames, with and without live data.
import { expect } from 'chai';
import { createCanvas } from '@napi-rs/canvas';
import { registerFonts } from '../../src/render/fonts.js';
import type { FrameInfo } from '../../src/render/scene.js';
import { getScene, sceneIds } from '../../src/render/scenes/index.js';
import { buildView, toOptions } from '../../src/polls/tally.js';
import { fingerprint } from '../../src/redact.js';

const KEYS = ['live_8f3kQ2mZxv9TtY', 'abcd', 'x', 'sk-0123456789abcdefghij0123456789abcdefghij0123456789abcdefghij01'];

function drawnText(sceneId: string, info: FrameInfo, data: unknown): string[] {
  const canvas = createCanvas(info.width, info.height);
  const ctx = canvas.getContext('2d');
  const seen: string[] = [];
  const fill = ctx.fillText.bind(ctx);
  const stroke = ctx.strokeText.bind(ctx);
  ctx.fillText = (text: string, x: number, y: number, w?: number) => (seen.push(String(text)), w === undefined ? fill(text, x, y) : fill(text, x, y, w));
  ctx.strokeText = (text: string, x: number, y: number, w?: number) => (seen.push(String(text)), w === undefined ? stroke(text, x, y) : stroke(text, x, y, w));
  getScene(sceneId)!.draw(ctx, info, data);
  return seen;
}

const poll = buildView(
  { id: 7, question: 'Who wins?', options: toOptions({ question: '', options: ['Ryu', 'Ken'] }), createdAt: new Date().toISOString(), endsAt: null, closedAt: null },
  { A: 3, B: 5 },
);
const DATA: Record<string, unknown[]> = { poll: [{ poll: null, shown: [] }, { poll, shown: [0.4, 0.6] }] };

describe('security: no stream key on air', () => {
  before(() => registerFonts());

  for (const id of sceneIds()) {
    for (const key of KEYS) {
      it(`scene ${id} never draws the key "${key.slice(0, 12)}…" (${key.length} chars)`, () => {
        let texts = 0;
        for (const data of DATA[id] ?? [undefined]) {
          for (const frame of [0, 1, 59, 3600]) {
            const info: FrameInfo = { width: 1280, height: 720, frame, timeMs: Date.now(), startedMs: Date.now() - 5000, streamKey: key, fps: 30 };
            const seen = drawnText(id, info, data);
            texts += seen.length;
            // A key as short as one character may appear by chance in other text: check the long ones whole.
            if (key.length >= 8) for (const t of seen) expect(t, `scene ${id} drew "${t}"`).to.not.include(key);
            if (id === 'testcard') expect(seen.join(' ')).to.include(`#${fingerprint(key)}`).and.not.match(new RegExp(`key ${key}\\b`));
          }
        }
        expect(texts, 'the scene draws some text (the recorder works)').to.be.greaterThan(0);
      });
    }
  }
});
