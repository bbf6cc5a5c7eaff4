// Windows: LockFileEx locks (per handle, mandatory), ACLs instead of modes, no /proc.
import * as os from 'node:os';
import * as path from 'node:path';
import type { OsSeam } from './os';
import { listNativeProcesses } from './proctable-native';
import { signalProbe } from './os-posix';

export const windowsSeam: OsSeam = {
  defaultLockDir: (env, home) =>
    path.join(
      env.LOCALAPPDATA ?? path.join(home || os.homedir(), 'AppData', 'Local'),
      'toolchain-lock',
    ),
  // %LOCALAPPDATA% is private to the user by its ACL; modes and uids mean nothing here.
  refuseForeignDir: () => null,
  // A UNC path (\\server\share\…) is a network share; mapped drives are not told apart.
  networkFileSystem: (dir) => (/^[\\/]{2}[^\\/?.]/.test(dir) ? 'SMB' : null),
  // process.kill(pid, 0) asks OpenProcess: an answer is worth saying, silence proves nothing.
  liveness: (record, self) =>
    record.host === self.host && signalProbe(record.pid) ? 'alive' : 'unknown',
  readKernelLockTable: () => null,
  childrenKeepLocks: false,
  listProcesses: listNativeProcesses,
  mappedFiles: () => null,
  openFiles: () => null,
  holdsLockOn: () => null,
  processCwd: () => null,
  processEnv: () => null,
};
