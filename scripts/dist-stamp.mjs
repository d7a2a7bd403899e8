// Whether dist/ is the build of the current sources. `npm run build` writes dist/.build-stamp
// dated when the build began; dist/ is fresh while nothing under src/ (nor a tsconfig) is newer.
// A git checkout, a pull or an edit dates what it changes now, so the next start sees it.
import fs from 'node:fs';
import path from 'node:path';

export const STAMP = path.join('dist', '.build-stamp');
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json'];

/** Newest modification time (ms) of a file or of anything in a directory tree (0: none). */
function newest(p) {
  let st;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let t = st.mtimeMs; // a deleted file dates its directory
  for (const e of fs.readdirSync(p)) t = Math.max(t, newest(path.join(p, e)));
  return t;
}

/** True when dist/main.js exists and no input is newer than the stamp. */
export function distIsFresh(root) {
  let stamp;
  try {
    stamp = fs.statSync(path.join(root, STAMP)).mtimeMs;
    fs.accessSync(path.join(root, 'dist', 'main.js'));
  } catch {
    return false;
  }
  return INPUTS.every((i) => newest(path.join(root, i)) <= stamp);
}

/** Marks dist/ as the build of the sources as they were at `startedMs`. */
export function writeStamp(root, startedMs) {
  const file = path.join(root, STAMP);
  fs.writeFileSync(file, `built from the sources as of ${new Date(startedMs).toISOString()}\n`);
  const t = new Date(startedMs);
  fs.utimesSync(file, t, t);
}
