// Which FFmpeg binary to run: FFMPEG_PATH, else ffmpeg-static's, else `ffmpeg` on PATH —
// each one checked by running `-version`, so a broken binary is reported at start-up, not mid-stream.
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { errMessage, log } from '../../logger.js';

export type FfmpegSource = 'FFMPEG_PATH' | 'ffmpeg-static' | 'PATH';

export interface ResolvedFfmpeg {
  path: string;
  source: FfmpegSource;
  /** e.g. '5.1.9-0+deb12u1' */
  version: string;
}

export interface FfmpegAttempt {
  source: FfmpegSource;
  path: string | null;
  reason: string;
}

/** No usable FFmpeg (or FFMPEG_PATH points at a broken one). `attempts` says what was tried. */
export class FfmpegNotFoundError extends Error {
  constructor(
    message: string,
    readonly attempts: FfmpegAttempt[],
  ) {
    super(message);
    this.name = 'FfmpegNotFoundError';
  }
}

const VERSION_TIMEOUT_MS = 10_000;

/** Runs `<file> -version`; resolves the version string, rejects with a one-line reason. */
export function probeFfmpeg(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, ['-version'], { timeout: VERSION_TIMEOUT_MS, windowsHide: true }, (err, stdout) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        reject(new Error(code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'not executable' : errMessage(err).split('\n')[0]));
        return;
      }
      const match = /^ffmpeg version (\S+)/.exec(stdout);
      if (!match) reject(new Error(`not FFmpeg: "-version" printed ${JSON.stringify(stdout.slice(0, 60))}`));
      else resolve(match[1]);
    });
  });
}

/** ffmpeg-static is an optional dependency: the package may be missing, or its binary not downloaded. */
async function ffmpegStaticPath(): Promise<string> {
  const name = 'ffmpeg-static'; // a variable, so TypeScript does not require the package to exist
  let mod: { default?: unknown };
  try {
    mod = (await import(name)) as { default?: unknown };
  } catch {
    throw new Error('package not installed');
  }
  if (typeof mod.default !== 'string') throw new Error('no binary for this platform');
  try {
    await access(mod.default, constants.X_OK);
  } catch {
    throw new Error(`binary ${mod.default} is missing (its install script did not download it)`);
  }
  return mod.default;
}

/** First executable `ffmpeg` in PATH, as the shell would find it. */
async function pathLookup(envPath: string | undefined): Promise<string> {
  for (const dir of (envPath ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, process.platform === 'win32' ? 'ffmpeg.exe' : 'ffmpeg');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next directory
    }
  }
  throw new Error('no ffmpeg in PATH');
}

async function resolveUncached(ffmpegPathEnv: string | undefined, envPath: string | undefined): Promise<ResolvedFfmpeg> {
  if (ffmpegPathEnv) {
    try {
      const version = await probeFfmpeg(ffmpegPathEnv);
      return { path: ffmpegPathEnv, source: 'FFMPEG_PATH', version };
    } catch (err) {
      // An explicit setting that does not work is a mistake to fix, not a reason to run another binary.
      throw new FfmpegNotFoundError(
        `FFMPEG_PATH=${ffmpegPathEnv} is not a working FFmpeg (${errMessage(err)}). ` +
          'Fix the path, or unset FFMPEG_PATH to use ffmpeg-static or ffmpeg on PATH.',
        [{ source: 'FFMPEG_PATH', path: ffmpegPathEnv, reason: errMessage(err) }],
      );
    }
  }
  const attempts: FfmpegAttempt[] = [{ source: 'FFMPEG_PATH', path: null, reason: 'not set' }];
  for (const [source, find] of [
    ['ffmpeg-static', ffmpegStaticPath],
    ['PATH', () => pathLookup(envPath)],
  ] as const) {
    let file: string | null = null;
    try {
      file = await find();
      const version = await probeFfmpeg(file);
      return { path: file, source, version };
    } catch (err) {
      attempts.push({ source, path: file, reason: errMessage(err) });
    }
  }
  throw new FfmpegNotFoundError(
    `FFmpeg not found. Tried: ${attempts.map((a) => `${a.source}${a.path ? ` (${a.path})` : ''}: ${a.reason}`).join('; ')}. ` +
      'Install FFmpeg (e.g. `apt-get install ffmpeg`, `brew install ffmpeg`) so `ffmpeg` is on PATH, ' +
      'or set FFMPEG_PATH to an FFmpeg binary.',
    attempts,
  );
}

const cache = new Map<string, Promise<ResolvedFfmpeg>>();

/**
 * Resolves the FFmpeg binary (FFMPEG_PATH → ffmpeg-static → PATH). Successes are cached per
 * (FFMPEG_PATH, PATH); failures are not, so installing FFmpeg later is picked up.
 */
export function resolveFfmpeg(ffmpegPathEnv?: string): Promise<ResolvedFfmpeg> {
  const envPath = process.env.PATH;
  const key = `${ffmpegPathEnv ?? ''}\u0000${envPath ?? ''}`;
  let pending = cache.get(key);
  if (!pending) {
    pending = resolveUncached(ffmpegPathEnv || undefined, envPath).then(
      (found) => {
        log('FFMPEG').info(`using FFmpeg ${found.version} from ${found.source}: ${found.path}`);
        return found;
      },
      (err: unknown) => {
        cache.delete(key);
        throw err;
      },
    );
    cache.set(key, pending);
  }
  return pending;
}
