// What Linux and macOS share: the cache directory, and ownership checks by uid and mode.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function posixCacheDir(home: string): string {
  return path.join(home || os.homedir(), '.cache', 'toolchain-lock');
}

/** Refuses a directory of another user, or writable by others without the sticky bit. */
export function refuseForeignPosixDir(dir: string, st: fs.Stats): string | null {
  const uid = process.getuid?.();
  const fix = 'Remove it or set TOOLCHAIN_LOCK_DIR to a directory only you can write to.';
  if (uid !== undefined && st.uid !== uid) {
    return `The lock directory ${dir} belongs to uid ${st.uid}, not to you (uid ${uid}); its owner could forge or delete your locks. ${fix}`;
  }
  if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) {
    return (
      `The lock directory ${dir} is writable by others (mode ${(st.mode & 0o7777).toString(8)}) without the sticky bit; ` +
      `anyone could replace its lock files. Run \`chmod go-w ${dir}\` or remove it or set TOOLCHAIN_LOCK_DIR to a directory only you can write to.`
    );
  }
  return null;
}
