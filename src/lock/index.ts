// The engine's public surface. Nothing here knows about VS Code or the command line.
export { acquireRead, acquireWrite } from './acquire';
export {
  heldKeys,
  HELD_ENV,
  WRITING_ENV,
  DEFAULT_POLL_MS,
  type AcquireOptions,
  type LockHandle,
  type ReadLock,
} from './options';
export { clean, type CleanOptions, type Removed } from './clean';
export {
  holderFromRecord,
  listKeys,
  readLockSnapshot,
  type Holder,
  type LockSnapshot,
  type LockState,
  type SnapshotOptions,
} from './lock-state';
export { LockError, isLockError, lockFailure, message, type LockErrorCode } from './errors';
export { checkLockDir, defaultLockDir, ensureLockDir } from './lockdir';
export { gateFilePath, lockFilePath } from './files';
export { recordLiveness } from './liveness';
export { toolchainKey, canonicalToolchainPath, type Toolchain } from './keys';
export {
  describeHolder,
  describeHolders,
  describeLockState,
  describeRole,
  holderCommand,
} from './describe';
export { PROTOCOL_VERSION, readRecords, type LockMode, type RecordProblem } from './records';
export { subscribe, type Disposable } from './notify';
export {
  nativeLock,
  nativeModulePath,
  runtimeDescription,
  fileSystemKind,
  listProcesses,
  descendants,
  descendantsOf,
  groupRunning,
  isAlive,
  processTableSupported,
  readProcess,
  type ProcessEntry,
  type ProcessInfo,
  groupSpawnOptions,
  killTree,
  reapTree,
  spawnFailure,
  waitForExit,
} from './os';
