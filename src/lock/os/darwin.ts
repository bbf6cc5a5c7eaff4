// macOS (and other Unix without /proc): flock locks, no boot ids, no kernel lock table.
import * as path from 'node:path';
import type { OsSeam } from './seam';
import { noProcSeam } from './noproc';
import { posixCacheDir, refuseForeignPosixDir } from './posix';

export const darwinSeam: OsSeam = {
  ...noProcSeam,
  defaultLockDir: (_env, home) =>
    process.platform === 'darwin'
      ? path.join(home, 'Library', 'Caches', 'toolchain-lock')
      : posixCacheDir(home),
  refuseForeignDir: refuseForeignPosixDir,
  // statfs(2) type numbers are not stable across macOS releases; treat the directory as local.
  networkFileSystem: () => null,
  childrenKeepLocks: true,
};
