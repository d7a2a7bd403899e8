import v8 from 'node:v8';
import vm from 'node:vm';
import { createCanvas } from '@napi-rs/canvas';
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as (o?: unknown) => void;
const mode = process.argv[2] ?? 'none';
const c = createCanvas(1280, 720); const ctx = c.getContext('2d');
let s = 0; const N = 600; const per: number[] = []; let gcT = 0;
for (let i = 0; i < N; i++) {
  ctx.fillStyle = i % 2 ? '#f00' : '#0f0'; ctx.fillRect(0, 0, 1280, 720);
  const b = performance.now(); let d = c.data(); const dt = performance.now() - b; s += dt; per.push(dt);
  d = null as any;
  const g = performance.now();
  if (mode === 'minor') gc({ type: 'minor' });
  if (mode === 'full') gc();
  gcT += performance.now() - g;
}
console.log(mode, 'data mean', (s / N).toFixed(2), 'last100', (per.slice(-100).reduce((a,b)=>a+b)/100).toFixed(2), 'gc mean', (gcT / N).toFixed(2));
