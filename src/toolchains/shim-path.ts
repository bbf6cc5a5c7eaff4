// Where shims stand on PATH: the real program behind a shim, and whether the shims are in effect.
// The POSIX shim script finds the real program by the same rule (shim-script.ts); a test holds
// the two to it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SHIM_MANIFEST } from './shim-script';

/** PATH's entries in order, empty ones (the current directory, by accident) left out. */
export function pathEntries(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string[] {
  const value = platform === 'win32' ? (env.PATH ?? env.Path ?? '') : (env.PATH ?? '');
  return value.split(platform === 'win32' ? ';' : ':').filter((d) => d !== '');
}

/** Two spellings of one directory: equal, or the same directory once links are followed. */
export function sameDir(a: string, b: string): boolean {
  const ra = path.resolve(a);
  const rb = path.resolve(b);
  if (ra === rb) return true;
  try {
    return fs.realpathSync.native(ra) === fs.realpathSync.native(rb);
  } catch {
    return false;
  }
}

/** A shim directory: `own`, or any directory holding a shim manifest (a copy). */
export function isShimDir(dir: string, own: string): boolean {
  return dir === own || fs.existsSync(path.join(dir, SHIM_MANIFEST));
}

/** `program` in `dir` as PATH lookup finds it (Windows: with PATHEXT's extensions), or null. */
export function programIn(
  dir: string,
  program: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string | null {
  const names =
    platform === 'win32'
      ? (env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD')
          .split(';')
          .filter(Boolean)
          .map((ext) => program + ext.toLowerCase())
      : [program];
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      if (!fs.statSync(file).isFile()) continue;
      if (platform !== 'win32') fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // Not here, or not executable: PATH lookup goes on too.
    }
  }
  return null;
}

/**
 * The real program behind the shim for `program` in `ownDir`: the first one on PATH after a shim
 * directory, never in one; when there is none after (a shim run by its full path, or put behind
 * ~/.cargo/bin), the first one on PATH. Null when there is none at all.
 */
export function findReal(
  program: string,
  ownDir: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string | null {
  let first: string | null = null;
  let after = false;
  for (const dir of pathEntries(env, platform)) {
    if (isShimDir(dir, ownDir)) {
      after = true;
      continue;
    }
    const found = programIn(dir, program, env, platform);
    if (found === null) continue;
    if (after) return found;
    first ??= found;
  }
  return first;
}

/** How a shim directory stands on PATH. */
export interface ShimPathReport {
  readonly dir: string;
  readonly exists: boolean;
  /** Indexes of the PATH entries naming `dir` (more than one is a mistake). */
  readonly positions: readonly number[];
  /** What a plain `program` on this PATH runs; null when nothing. */
  readonly resolved: string | null;
  /** True when `resolved` is a shim (in `dir` or another shim directory). */
  readonly inEffect: boolean;
  /** Entries before the first shim directory that have `program`: they take plain calls past the shims. Empty without a shim directory on PATH. */
  readonly ahead: readonly string[];
}

/**
 * Where `dir` stands on PATH for plain calls of `program` (rustup, as every shim stands with it).
 * `same` tells two spellings of a directory apart; a shim on its way to the real program passes
 * plain string equality, which costs no system call where `sameDir` resolves links.
 */
export function shimPathReport(
  dir: string,
  program: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  same: (a: string, b: string) => boolean = sameDir,
): ShimPathReport {
  const entries = pathEntries(env, platform);
  const positions = entries.flatMap((d, i) => (same(d, dir) ? [i] : []));
  let resolved: string | null = null;
  let inEffect = false;
  let shimSeen = false;
  const ahead: string[] = [];
  for (const d of entries) {
    const shimDir = same(d, dir) || isShimDir(d, dir);
    shimSeen ||= shimDir;
    // Behind the first shim directory only the first program found matters.
    if (shimSeen && resolved !== null) break;
    const found = programIn(d, program, env, platform);
    if (found === null) continue;
    if (resolved === null) {
      resolved = found;
      inEffect = shimDir;
    }
    if (!shimSeen) ahead.push(d);
  }
  if (!shimSeen) ahead.length = 0;
  return { dir, exists: fs.existsSync(dir), positions, resolved, inEffect, ahead };
}
