// What a window shows: the status bar, the Toolchain Locks view, notifications and the words
// they use, all rendered from the coordinator's state.
export { Alerts } from './alerts';
export { describeLock, lockStateWords, roleWords } from './lockdescribe';
export { LockDirView } from './lockdir-view';
export { toolchainArgument } from './locksview';
export { type LockNode } from './locktree';
export { Presentation } from './presentation';
export { announceStepAside } from './stepaside';
export { announceUnlockedChange, UnlockedObserver } from './unlocked-changes';
