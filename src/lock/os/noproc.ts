// What macOS and Windows share: no /proc. The native module lists processes (proctable-native.ts);
// what /proc shows of other processes (mapped files, open files, locks, cwd, environment) and the
// kernel's lock table stay hidden.
import type { OsSeam } from './seam';
import { listNativeProcesses } from './proctable-native';

/** True when a process with this pid exists (EPERM: it exists but is not ours). */
function signalProbe(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export const noProcSeam: Pick<
  OsSeam,
  | 'liveness'
  | 'readKernelLockTable'
  | 'listProcesses'
  | 'mappedFiles'
  | 'openFiles'
  | 'holdsLockOn'
  | 'processCwd'
  | 'processEnv'
> = {
  // Start times are not compared here: a pid that answers may be a reused one, and on Windows
  // (where process.kill(pid, 0) asks OpenProcess) silence proves nothing. Say alive, never dead.
  liveness: (record, self) =>
    record.host === self.host && signalProbe(record.pid) ? 'alive' : 'unknown',
  readKernelLockTable: () => null,
  listProcesses: listNativeProcesses,
  mappedFiles: () => null,
  openFiles: () => null,
  holdsLockOn: () => null,
  processCwd: () => null,
  processEnv: () => null,
};
