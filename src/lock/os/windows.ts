// Windows: LockFileEx locks (per handle, mandatory), ACLs instead of modes, no /proc.
import * as os from 'node:os';
import * as path from 'node:path';
import type { OsSeam } from './seam';
import { noProcSeam } from './noproc';

export const windowsSeam: OsSeam = {
  ...noProcSeam,
  defaultLockDir: (env, home) =>
    path.join(
      env.LOCALAPPDATA ?? path.join(home || os.homedir(), 'AppData', 'Local'),
      'toolchain-lock',
    ),
  // %LOCALAPPDATA% is private to the user by its ACL; modes and uids mean nothing here.
  refuseForeignDir: () => null,
  // A UNC path (\\server\share\…) is a network share; mapped drives are not told apart.
  networkFileSystem: (dir) => (/^[\\/]{2}[^\\/?.]/.test(dir) ? 'SMB' : null),
  childrenKeepLocks: false,
};
