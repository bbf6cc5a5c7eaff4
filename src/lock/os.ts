// The one place that knows which OS we run on (Go's filelock_unix.go / filelock_windows.go):
// everything that differs between systems is a field of OsSeam, implemented once per OS.
// The lock primitive itself differs inside the native module (native/lock_unix.c, lock_windows.c).
import type * as fs from 'node:fs';
import type { SelfIdentity } from './identity';
import type { Liveness } from './liveness';
import { darwinSeam } from './os-darwin';
import { linuxSeam } from './os-linux';
import type { KernelLockTable } from './proclocks';
import type { HolderRecord } from './records';
import { windowsSeam } from './os-windows';

export interface OsSeam {
  /** The per-user lock directory when TOOLCHAIN_LOCK_DIR is not set (docs/PROTOCOL.md §1). */
  defaultLockDir(env: NodeJS.ProcessEnv, home: string): string;
  /** Why others could tamper with `dir` (owner, mode), or null when they cannot; `st` is its lstat. */
  refuseForeignDir(dir: string, st: fs.Stats): string | null;
  /** Network file systems (locks and change events cross machines only by polling), by statfs or path. */
  networkFileSystem(dir: string): string | null;
  /** Whether the processes behind a record still exist; `dead` only when proved. */
  liveness(record: HolderRecord, self: SelfIdentity): Liveness;
  /** The kernel's table of flock holders (who holds without a record), where the OS shows one. */
  readKernelLockTable(): KernelLockTable | null;
  /**
   * Whether a child given our lock handle keeps the lock after we die (flock locks belong to
   * the open file, which a child inherits; LockFileEx locks belong to our handle alone).
   */
  readonly childrenKeepLocks: boolean;
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
