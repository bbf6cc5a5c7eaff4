// What callers pass to acquire a lock and what they get back.
import type { Toolchain } from './keys';
import type { Disposable } from './notify';
import type { LockMode } from './records';
import type { Holder } from './lock-state';

/** Environment variable naming the toolchain keys an ancestor holds for read (the nested-write guard). */
export const HELD_ENV = 'TOOLCHAIN_LOCK_HELD';
/** Environment variable naming the toolchain keys an ancestor holds for write (an update runs us). */
export const WRITING_ENV = 'TOOLCHAIN_LOCK_WRITING';
export const DEFAULT_POLL_MS = 1000;

export interface AcquireOptions {
  readonly lockDir?: string;
  /** "cli", "vscode", or your tool's name. */
  readonly client?: string;
  /** What others are told this party runs; defaults to this process's command line. */
  readonly command?: readonly string[];
  readonly purpose?: string;
  readonly signal?: AbortSignal;
  /** Give up after this long; 0 fails at once when the lock is taken. Undefined waits forever. */
  readonly timeoutMs?: number;
  /** Poll interval for network file systems and for noticing killed holders. */
  readonly pollIntervalMs?: number;
  /** Bound on one lock call on a network file system. */
  readonly lockCallLimitMs?: number;
  /** Called with the current blockers whenever they change while waiting. */
  readonly onWait?: (blockers: readonly Holder[]) => void;
  readonly onWarning?: (message: string) => void;
  /** Environment to read the nested-write marker from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

/** A held lock on one or more toolchains. */
export interface LockHandle extends AsyncDisposable {
  readonly mode: LockMode;
  readonly toolchains: readonly Toolchain[];
  readonly keys: readonly string[];
  readonly lockFiles: readonly string[];
  /** Descriptors of the main lock files; pass them to a child so it keeps the lock if we die. */
  readonly fds: readonly number[];
  readonly released: boolean;
  /** Releases the lock and removes this party's records. Safe to call twice. */
  release(): Promise<void>;
  /** Records that `pid` inherited the lock, so the lock is reported alive while it runs. */
  addChild(pid: number): void;
  /** Environment entries that mark children as running under this lock. */
  childEnv(): Record<string, string>;
}

/** A read lock; it can tell its owner as soon as a writer announces itself. */
export interface ReadLock extends LockHandle {
  /** Calls `listener` once per pending or active writer noticed while this lock is held. */
  onUpdatePending(listener: (writer: Holder) => void): Disposable;
}

/** The toolchain keys an ancestor marked in the environment (HELD_ENV or WRITING_ENV). */
export function heldKeys(env: NodeJS.ProcessEnv, name: string = HELD_ENV): Set<string> {
  return new Set((env[name] ?? '').split(',').filter(Boolean));
}
