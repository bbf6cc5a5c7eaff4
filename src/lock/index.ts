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
  status,
  watch,
  type StatusOptions,
  type WatchOptions,
  type LockEvent,
  type LockEventKind,
} from './inspect';
export type { Holder, LockState, LockStatus } from './status';
export { LockError, isLockError, lockFailure, message, type LockErrorCode } from './errors';
export { defaultLockDir, ensureLockDir } from './lockdir';
export { toolchainKey, canonicalToolchainPath, type Toolchain } from './keys';
export {
  describeHolder,
  describeHolders,
  describeLockState,
  describeRole,
  holderCommand,
} from './describe';
export { PROTOCOL_VERSION, type LockMode } from './records';
export type { Disposable } from './notify';
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
} from './os';
export { describeUnlocked, type UnlockedProcess } from './unlocked';
export { waitForUnlocked, type UnlockedReport, type UnlockedWaitOptions } from './unlocked-wait';
export { describeUnlockedWriter, type UnlockedWriter } from './writer';
export {
  watchUnlockedChanges,
  WRITER_GRACE_MS,
  type ChangeWatch,
  type ChangeWatchOptions,
  type UnlockedChange,
} from './toolchain-changes';
