// macOS (and other Unix without /proc): flock locks, no boot ids, no kernel lock table.
import * as path from 'node:path';
import type { OsSeam } from './os';
import { listNativeProcesses } from './proctable-native';
import { posixCacheDir, refuseForeignPosixDir, signalProbe } from './os-posix';

export const darwinSeam: OsSeam = {
  defaultLockDir: (_env, home) =>
    process.platform === 'darwin'
      ? path.join(home, 'Library', 'Caches', 'toolchain-lock')
      : posixCacheDir(home),
  refuseForeignDir: refuseForeignPosixDir,
  // statfs(2) type numbers are not stable across macOS releases; treat the directory as local.
  networkFileSystem: () => null,
  // Without start times a pid that answers may be a reused one: say alive, never dead.
  liveness: (record, self) =>
    record.host === self.host && signalProbe(record.pid) ? 'alive' : 'unknown',
  readKernelLockTable: () => null,
  childrenKeepLocks: true,
  listProcesses: listNativeProcesses,
  mappedFiles: () => null,
  openFiles: () => null,
  holdsLockOn: () => null,
  processCwd: () => null,
  processEnv: () => null,
};
