import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LockError, errnoCode, isLockError } from './errors';
import { nativeLock, thisOs } from './os';

/**
 * The lock directory every client derives without configuration. It deliberately ignores
 * XDG_CACHE_HOME and friends: an editor started from a desktop menu and a terminal often see
 * different environments, and two answers would mean two locks.
 */
export function defaultLockDir(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.TOOLCHAIN_LOCK_DIR;
  if (override) return path.resolve(override);
  return thisOs.defaultLockDir(env, os.homedir());
}

const checked = new Set<string>();

/** Creates the lock directory if needed and refuses one that others could tamper with. */
export function ensureLockDir(dir: string): string {
  const absolute = path.resolve(dir);
  if (checked.has(absolute)) return absolute;
  try {
    fs.mkdirSync(absolute, { recursive: true, mode: 0o700 });
  } catch (cause) {
    // Something already there (a file, a dangling link) deserves the precise complaint.
    if (fs.existsSync(absolute) || isLink(absolute)) checkLockDir(absolute);
    throw new LockError(
      'E_LOCKDIR_UNWRITABLE',
      `Cannot create the lock directory ${absolute} (${errnoCode(cause) ?? String(cause)}). ` +
        'Create it yourself or set TOOLCHAIN_LOCK_DIR to a directory you own.',
      { cause },
    );
  }
  checkLockDir(absolute);
  checked.add(absolute);
  return absolute;
}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Throws unless `dir` is a real directory owned by us and not writable by others (sticky excepted). */
export function checkLockDir(dir: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch (cause) {
    throw new LockError(
      'E_LOCKDIR_UNWRITABLE',
      `Cannot read the lock directory ${dir}: ${String(cause)}`,
      { cause },
    );
  }
  const fix = 'Remove it or set TOOLCHAIN_LOCK_DIR to a directory only you can write to.';
  if (st.isSymbolicLink()) {
    throw new LockError(
      'E_LOCKDIR_UNSAFE',
      `The lock directory ${dir} is a symbolic link; a link can be re-pointed by whoever owns it. ` +
        'Point TOOLCHAIN_LOCK_DIR at the real directory instead.',
    );
  }
  if (!st.isDirectory()) {
    throw new LockError(
      'E_LOCKDIR_UNSAFE',
      `The lock directory ${dir} exists but is not a directory. ${fix}`,
    );
  }
  const foreign = thisOs.refuseForeignDir(dir, st);
  if (foreign) throw new LockError('E_LOCKDIR_UNSAFE', foreign);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (cause) {
    throw new LockError(
      'E_LOCKDIR_UNWRITABLE',
      `The lock directory ${dir} is not writable by you. Fix its permissions or set TOOLCHAIN_LOCK_DIR.`,
      { cause },
    );
  }
}

/**
 * Opens (creating if needed) a lock file without following a symlink planted in its place and
 * without blocking on a FIFO; anything but a regular file is refused. Returns a native handle.
 */
export function openLockFile(file: string): number {
  try {
    return nativeLock().open(file);
  } catch (cause) {
    if (isLockError(cause)) throw cause;
    const code = errnoCode(cause);
    if (code === 'ELOOP' || code === 'EMLINK') {
      throw new LockError(
        'E_LOCKFILE_UNSAFE',
        `The lock file ${file} is a symbolic link; refusing to follow it. Delete the link.`,
        { cause, op: 'open', path: file },
      );
    }
    if (code === 'EFTYPE') {
      throw new LockError(
        'E_LOCKFILE_UNSAFE',
        `The lock file ${file} is not a regular file. Delete it; it will be recreated.`,
        { cause, op: 'open', path: file },
      );
    }
    throw new LockError(
      'E_LOCKDIR_UNWRITABLE',
      `Cannot open the lock file ${file} (${code ?? String(cause)}).`,
      { cause, op: 'open', path: file },
    );
  }
}
