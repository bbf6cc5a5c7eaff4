// `watch`: lock events as they happen, from lock-directory changes plus a poll for kernel-only
// changes, and (when asked) changes of toolchains' files without their write lock.
import {
  gateFilePath,
  lockFilePath,
  defaultLockDir,
  ensureLockDir,
  type Toolchain,
  subscribe,
  type Disposable,
  type Holder,
  DEFAULT_POLL_MS,
} from '../lock';
import { fileSystemKind } from '../lock/os';
import { status, type LockStatus, type StatusOptions } from './status';
import {
  watchUnlockedChanges,
  WRITER_GRACE_MS,
  type ChangeWatch,
  type UnlockedChange,
} from './toolchain-changes';
export type LockEventKind =
  'acquired' | 'released' | 'update-pending' | 'update-started' | 'update-done' | 'waiting';

/** One change in who holds or waits for a lock. */
export interface LockEvent {
  readonly time: string;
  readonly event: LockEventKind;
  readonly key: string;
  readonly toolchain: Toolchain | null;
  readonly holder: Holder;
}

export interface WatchOptions extends StatusOptions {
  readonly pollIntervalMs?: number;
  readonly onEvent: (event: LockEvent) => void;
  readonly onWarning?: (message: string) => void;
  /** Called after each refresh with the full picture, for status displays. */
  readonly onStatus?: (statuses: readonly LockStatus[]) => void;
  /**
   * A toolchain's files change while nobody holds its write lock (`started`), and the change is
   * over (`done`). Watched for every toolchain the watch knows a directory of, only when given.
   */
  readonly onUnlockedChange?: (change: UnlockedChange) => void;
}

const FOREIGN_CONFIRM_MS = 50;
const WATCH_MIN_INTERVAL_MS = 100;

function partyId(h: Holder): string {
  return h.recordId ?? `foreign:${h.pid}:${h.mode}:${h.state}`;
}

/** Reports lock events as they happen, from lock-directory changes plus a poll for kernel-only changes; throws for an unsafe lock directory. */
export function watch(options: WatchOptions): Disposable {
  const dir = options.lockDir ?? defaultLockDir();
  let previous = new Map<string, Map<string, Holder>>();
  const toolchainOf = new Map<string, Toolchain | null>();
  // A reader is in the kernel's table a moment before its record exists, and would pass for a
  // foreign flock holder: a new foreign party is reported only once a second look still sees it.
  const foreignSince = new Map<string, number>();
  let recheck: NodeJS.Timeout | undefined;
  const changeWatches = new Map<string, ChangeWatch>();
  /** When each key last had a writer (pending or active), as the snapshots saw it. */
  const writerSeenAt = new Map<string, number>();
  const watchChanges = (statuses: readonly LockStatus[]): void => {
    const onChange = options.onUnlockedChange;
    if (!onChange) return;
    for (const s of statuses) {
      if (!s.toolchain || changeWatches.has(s.key)) continue;
      const key = s.key;
      changeWatches.set(
        key,
        watchUnlockedChanges(s.toolchain, {
          lockDir: dir,
          onChange,
          onWarning: options.onWarning,
          writerSeenLately: () =>
            Date.now() - (writerSeenAt.get(key) ?? -Infinity) < WRITER_GRACE_MS,
        }),
      );
    }
  };
  const snapshot = (): Map<string, Map<string, Holder>> => {
    const out = new Map<string, Map<string, Holder>>();
    const statuses = status({ ...options, observe: false });
    const now = Date.now();
    const seenForeign = new Set<string>();
    for (const s of statuses) {
      toolchainOf.set(s.key, s.toolchain);
      const parties = new Map<string, Holder>();
      for (const h of [...s.holders, ...s.waiting]) {
        const id = `${partyId(h)}:${h.state}`;
        if (h.foreign && !previous.get(s.key)?.has(id)) {
          seenForeign.add(id);
          const since = foreignSince.get(id) ?? now;
          foreignSince.set(id, since);
          if (now - since < FOREIGN_CONFIRM_MS) {
            recheck ??= setTimeout(() => {
              recheck = undefined;
              refresh();
            }, FOREIGN_CONFIRM_MS);
            continue;
          }
        }
        parties.set(id, h);
      }
      out.set(s.key, parties);
    }
    for (const id of foreignSince.keys()) if (!seenForeign.has(id)) foreignSince.delete(id);
    for (const s of statuses) if (s.writer?.mode === 'write') writerSeenAt.set(s.key, now);
    watchChanges(statuses);
    options.onStatus?.(statuses);
    return out;
  };
  const refresh = (): void => {
    let next: Map<string, Map<string, Holder>>;
    try {
      next = snapshot();
    } catch (err) {
      options.onWarning?.(`Cannot read the lock directory ${dir}: ${(err as Error).message}`);
      return;
    }
    const time = new Date().toISOString();
    for (const key of new Set([...previous.keys(), ...next.keys()])) {
      const before = previous.get(key) ?? new Map<string, Holder>();
      const after = next.get(key) ?? new Map<string, Holder>();
      const toolchain = toolchainOf.get(key) ?? null;
      for (const [id, h] of before) {
        if (after.has(id)) continue;
        if (h.state === 'held')
          options.onEvent({
            time,
            event: h.mode === 'write' ? 'update-done' : 'released',
            key,
            toolchain,
            holder: h,
          });
      }
      for (const [id, h] of after) {
        if (before.has(id)) continue;
        const event: LockEventKind =
          h.state === 'waiting'
            ? h.mode === 'write'
              ? 'update-pending'
              : 'waiting'
            : h.mode === 'write'
              ? 'update-started'
              : 'acquired';
        options.onEvent({ time, event, key, toolchain, holder: h });
      }
    }
    previous = next;
  };
  // An unsafe or unusable directory is an error for the caller, not a warning on every change.
  ensureLockDir(dir);
  previous = snapshot();
  const network = fileSystemKind(dir).network;
  // Coalesce bursts (temp file + rename, many parties at once) and keep reads of the kernel's
  // table, which stall every flock() on the machine for a moment, to a few per second.
  let scheduled: NodeJS.Timeout | undefined;
  let lastRefresh = 0;
  // Holders without records (plain flock(1)) show only in the kernel: opens and closes of every
  // lock and gate file wake us where the kernel reports them; elsewhere a poll looks.
  const lockFiles = (): string[] =>
    [...previous.keys()].flatMap((key) => [lockFilePath(dir, key), gateFilePath(dir, key)]);
  const sub = subscribe(
    dir,
    {
      useWatcher: !network,
      pollMs: options.pollIntervalMs ?? DEFAULT_POLL_MS,
      keepAlive: true,
      files: lockFiles(),
      opens: true,
      onWarning: options.onWarning,
    },
    () => {
      if (scheduled) return;
      scheduled = setTimeout(
        () => {
          scheduled = undefined;
          lastRefresh = Date.now();
          refresh();
          sub.setFiles(lockFiles());
        },
        Math.max(0, lastRefresh + WATCH_MIN_INTERVAL_MS - Date.now()),
      );
    },
  );
  return {
    dispose() {
      for (const w of changeWatches.values()) w.dispose();
      changeWatches.clear();
      clearTimeout(recheck);
      clearTimeout(scheduled);
      sub.dispose();
    },
  };
}
