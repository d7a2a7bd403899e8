// Scenes draw with fonts shipped by an npm package, so frames look the same on every machine
// (and golden images stay stable) whatever fonts the OS has.
import { createRequire } from 'node:module';
import path from 'node:path';
import { GlobalFonts } from '@napi-rs/canvas';

export const FONT_SANS = 'SF Sans';
export const FONT_MONO = 'SF Mono';

let registered = false;

export function registerFonts(): void {
  if (registered) return;
  registered = true;
  const require = createRequire(import.meta.url);
  const dir = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  GlobalFonts.registerFromPath(path.join(dir, 'DejaVuSans.ttf'), FONT_SANS);
  GlobalFonts.registerFromPath(path.join(dir, 'DejaVuSans-Bold.ttf'), FONT_SANS);
  GlobalFonts.registerFromPath(path.join(dir, 'DejaVuSansMono.ttf'), FONT_MONO);
}
