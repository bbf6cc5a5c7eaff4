// What others do, seen without taking part: who holds and waits for each lock (status, watch),
// programs running from a toolchain without its lock, and changes to a toolchain's files without
// its write lock. These are observations, never locks (docs/PROTOCOL.md §9); looking never writes.
export { status, type LockStatus, type StatusOptions } from './status';
export { watch, type LockEvent, type LockEventKind, type WatchOptions } from './watch';
export { describeUnlocked, type UnlockedProcess } from './unlocked-processes';
export { waitForUnlocked, type UnlockedReport, type UnlockedWaitOptions } from './unlocked-wait';
export { describeUnlockedWriter, type UnlockedWriter } from './unlocked-writers';
export {
  watchUnlockedChanges,
  WRITER_GRACE_MS,
  type ChangeWatch,
  type ChangeWatchOptions,
  type UnlockedChange,
} from './toolchain-changes';
