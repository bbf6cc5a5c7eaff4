// The one place that knows which OS we run on (Go's filelock_unix.go / filelock_windows.go):
// everything that differs between systems is a field of OsSeam, implemented once per OS.
// The lock primitive itself differs inside the native module (native/lock_unix.c, lock_windows.c).
import type * as fs from 'node:fs';
import type { RecordedProcesses, SelfIdentity } from './identity';
import { darwinSeam } from './darwin';
import { linuxSeam } from './linux';
import type { KernelLockTable } from './proclocks';
import type { ProcessInfo } from './proctable';
import { windowsSeam } from './windows';

/** `dead` is only said when proved; anything we cannot see is `unknown`. */
export type Liveness = 'alive' | 'unknown' | 'dead';

export interface OsSeam {
  /** The per-user lock directory when TOOLCHAIN_LOCK_DIR is not set (docs/PROTOCOL.md §1). */
  defaultLockDir(env: NodeJS.ProcessEnv, home: string): string;
  /** Why others could tamper with `dir` (owner, mode), or null when they cannot; `st` is its lstat. */
  refuseForeignDir(dir: string, st: fs.Stats): string | null;
  /** Network file systems (locks and change events cross machines only by polling), by statfs or path. */
  networkFileSystem(dir: string): string | null;
  /** Whether the processes behind a record still exist; `dead` only when proved. */
  liveness(record: RecordedProcesses, self: SelfIdentity): Liveness;
  /** The kernel's table of flock holders (who holds without a record), where the OS shows one. */
  readKernelLockTable(): KernelLockTable | null;
  /**
   * Whether a child given our lock handle keeps the lock after we die (flock locks belong to
   * the open file, which a child inherits; LockFileEx locks belong to our handle alone).
   */
  readonly childrenKeepLocks: boolean;
  /** Every process we can see (proctable.ts); empty where the OS shows us none. */
  listProcesses(): ProcessInfo[];
  /** Files mapped into a process (shared libraries); null where the OS does not show them. */
  mappedFiles(pid: number): string[] | null;
  /** Paths of the files a process has open; null where the OS does not show them. */
  openFiles(pid: number): string[] | null;
  /**
   * Whether a process holds a lock on the file (`dev`, `ino`) through a descriptor it has, its own
   * or inherited from a parent that locked it; null where the OS cannot tell.
   */
  holdsLockOn(pid: number, file: { dev: number; ino: number }): boolean | null;
  /** A process's current directory; null where hidden. */
  processCwd(pid: number): string | null;
  /** One variable of a process's starting environment; null when unset or hidden. */
  processEnv(pid: number, name: string): string | null;
}

function pick(platform: NodeJS.Platform): OsSeam {
  switch (platform) {
    case 'linux':
      return linuxSeam;
    case 'win32':
      return windowsSeam;
    default:
      // macOS and the BSDs: flock and signals, no /proc.
      return darwinSeam;
  }
}

/** This OS's seam. */
export const thisOs: OsSeam = pick(process.platform);
