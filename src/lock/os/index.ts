// The OS seam's public face: everything that differs between operating systems (the native lock
// module, flock/LockFileEx, the kernel's wake-ups, process identity and liveness, the process
// table and the kernel's lock table, network file systems) is reached through this file. The seam
// knows nothing of toolchains or lock records beyond the processes a record names; the one thing it
// takes from the engine above is the error vocabulary (../errors.ts, a leaf).
export { thisOs, type Liveness, type OsSeam } from './seam';
export { nativeLock, nativeModulePath, runtimeDescription, PREBUILT_TARGETS } from './native';
export { closeHandle, tryLock, tryLockOffThread, unlock, type FlockMode } from './flock';
export {
  childIdentity,
  processExited,
  selfIdentity,
  type ProcessIdentity,
  type RecordedProcesses,
  type SelfIdentity,
} from './identity';
export { fileSystemKind, warnNetworkFsOnce } from './netfs';
export {
  holdProcessOpen,
  kernelWatch,
  kernelWatchAvailable,
  kernelWatchFailed,
} from './kernel-watch';
export {
  descendants,
  descendantsOf,
  groupRunning,
  isAlive,
  isInside,
  listProcesses,
  processTableSupported,
  readProcess,
  runsFrom,
  type ProcessEntry,
  type ProcessInfo,
} from './proctable';
export { lockHeirs, processCommandLine, type KernelLock, type KernelLockTable } from './proclocks';
export { groupSpawnOptions, killTree, reapTree, spawnFailure, waitForExit } from './process-tree';
