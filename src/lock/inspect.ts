import * as fs from 'node:fs';
import { gateFilePath, lockFilePath } from './files';
import { checkLockDir, defaultLockDir, ensureLockDir } from './lockdir';
import { canonicalToolchainPath, toolchainKey, type Toolchain } from './keys';
import { fileSystemKind, thisOs, listProcesses, type ProcessInfo } from './os';
import { subscribe, type Disposable } from './notify';
import { readRecords } from './records';
import { describeLock, listKeys, type Holder, type LockStatus } from './status';
import { DEFAULT_POLL_MS } from './options';
import { lockCoverage, findUnlocked, lockedPids } from './unlocked';
import { findWriter, toolchainWhole, type UnlockedWriter } from './writer';
import {
  watchUnlockedChanges,
  WRITER_GRACE_MS,
  type ChangeWatch,
  type UnlockedChange,
} from './toolchain-changes';

export interface StatusOptions {
  readonly lockDir?: string;
  /** Only these toolchains (reported even when nobody ever locked them); default all in the directory. */
  readonly toolchains?: readonly Toolchain[];
  /**
   * Read the process table for `unlocked` and `unlockedWriter` (default true). It reads a few
   * files per process on the machine: lock-event paths that refresh often leave it out.
   */
  readonly observe?: boolean;
}

/** Reads the state of every lock in the lock directory (or of the named toolchains) without taking any, and without writing. */
export function status(options: StatusOptions = {}): LockStatus[] {
  const dir = options.lockDir ?? defaultLockDir();
  if (!fs.existsSync(dir)) {
    const empty = (options.toolchains ?? []).map((t) => emptyStatus(dir, t));
    if (options.observe === false || empty.length === 0) return empty;
    const table = listProcesses();
    return empty.map((s) => ({ ...s, ...observe(s, table) }));
  }
  checkLockDir(dir);
  // One read of the kernel's table for every key: it is expensive (see readKernelLockTable).
  const kernel = fileSystemKind(dir).network ? null : thisOs.readKernelLockTable();
  // Looking never writes: dead records are left out here, and removed by parties taking a lock or by clean().
  const { byKey, problems } = readRecords(dir);
  const wanted = options.toolchains?.map((t) => ({ key: toolchainKey(t.path), t }));
  const keys = wanted ? wanted.map((w) => w.key) : listKeys(dir);
  const table = options.observe === false ? null : listProcesses();
  return keys.map((key, i) => {
    const s = describeLock(
      dir,
      key,
      { kernel, cleanup: false },
      byKey.get(key) ?? [],
      problems.filter((p) => p.file.startsWith(`${key}~`)),
    );
    const t = wanted?.[i]?.t;
    const described =
      s.toolchain || !t
        ? s
        : { ...s, toolchain: { name: t.name, path: canonicalToolchainPath(t.path) } };
    return table ? { ...described, ...observe(described, table) } : described;
  });
}

/** What the process table and the files say about a toolchain beyond its lock (never a lock). */
function observe(
  s: LockStatus,
  table: readonly ProcessInfo[],
): Pick<LockStatus, 'unlocked' | 'unlockedWriter'> {
  const root = s.toolchain?.path;
  if (!root || !fs.existsSync(root)) return { unlocked: [], unlockedWriter: null };
  const locked = lockedPids(s.holders);
  const unlocked = findUnlocked(root, s.lockFile, locked, table);
  // A holder of the write lock changing the toolchain is a normal update.
  if (s.state === 'write') return { unlocked, unlockedWriter: null };
  const covered = lockCoverage(s.lockFile, locked, table);
  const found = findWriter(root, table, covered, { anyOpener: false });
  // A holder running rustup changes it under its read lock: the tool's own business, not reported.
  if (found) return { unlocked, unlockedWriter: found.byHolder ? null : found.writer };
  if (toolchainWhole(root)) return { unlocked, unlockedWriter: null };
  const opener = findWriter(root, table, covered, { anyOpener: true });
  const unlockedWriter: UnlockedWriter =
    opener && !opener.byHolder
      ? opener.writer
      : { pid: null, command: [], exe: null, user: null, since: null, evidence: 'incomplete' };
  return { unlocked, unlockedWriter };
}

function emptyStatus(dir: string, t: Toolchain): LockStatus {
  const key = toolchainKey(t.path);
  const s = describeLock(dir, key, { kernel: null, cleanup: false }, []);
  return { ...s, toolchain: { name: t.name, path: canonicalToolchainPath(t.path) }, state: 'free' };
}

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
