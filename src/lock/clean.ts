// Clean-up of what parties left behind: records proved dead (PROTOCOL.md §4.2) and temporary files
// of writes killed before their rename. Looking (status, watch) never does this; parties that take
// a lock do it for their keys, and `clean` for a whole directory.
import * as fs from 'node:fs';
import { selfIdentity } from './os';
import { checkLockDir, defaultLockDir } from './lockdir';
import { recordLiveness } from './liveness';
import { readRecords, removeRecordFile, sweepTemporaryFiles } from './records';

/** One file `clean` removed, and why. */
export interface Removed {
  readonly file: string;
  readonly reason: 'dead record' | 'abandoned temporary file';
}

export interface CleanOptions {
  readonly lockDir?: string;
  /** Only these keys (default: every key in the directory). */
  readonly keys?: readonly string[];
}

/** Removes dead records and abandoned temporary files from the lock directory; says what went. */
export function clean(options: CleanOptions = {}): Removed[] {
  const dir = options.lockDir ?? defaultLockDir();
  if (!fs.existsSync(dir)) return [];
  checkLockDir(dir);
  return cleanKeys(dir, options.keys);
}

/** The work of `clean`, in a directory already checked (a party's own). */
export function cleanKeys(dir: string, keys?: readonly string[]): Removed[] {
  const removed: Removed[] = [];
  const self = selfIdentity();
  const wanted = keys === undefined ? undefined : new Set(keys);
  const { byKey, temporary } = readRecords(dir);
  for (const [key, stored] of byKey) {
    if (wanted !== undefined && !wanted.has(key)) continue;
    for (const s of stored) {
      if (recordLiveness(s.record, self) !== 'dead') continue;
      removeRecordFile(dir, s.file);
      removed.push({ file: s.file, reason: 'dead record' });
    }
  }
  // `.KEY~ID.json.PID.RAND.tmp` and `.KEY.toolchain.json.PID.RAND.tmp`.
  const ofKeys =
    wanted === undefined
      ? temporary
      : temporary.filter((name) =>
          [...wanted].some((k) => name.startsWith(`.${k}~`) || name.startsWith(`.${k}.`)),
        );
  for (const file of sweepTemporaryFiles(dir, ofKeys))
    removed.push({ file, reason: 'abandoned temporary file' });
  return removed;
}
