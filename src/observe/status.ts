import * as fs from 'node:fs';
import {
  checkLockDir,
  defaultLockDir,
  canonicalToolchainPath,
  toolchainKey,
  type Toolchain,
  readRecords,
  readLockSnapshot,
  listKeys,
  type LockSnapshot,
} from '../lock';
import { fileSystemKind, thisOs, listProcesses, type ProcessInfo } from '../lock/os';
import { lockCoverage, findUnlocked, lockedPids, type UnlockedProcess } from './unlocked-processes';
import { findWriter, toolchainWhole, type UnlockedWriter } from './unlocked-writers';

/** Everything known about one toolchain's lock, and what is seen beside it (never a lock). */
export interface LockStatus extends LockSnapshot {
  /**
   * Processes running from the toolchain without a lock on it (observed in the process table by
   * `status`; empty where not looked for). Never a lock: see docs/PROTOCOL.md.
   */
  readonly unlocked: readonly UnlockedProcess[];
  /** Someone changing the toolchain while nobody holds its write lock, as observed now; null otherwise. */
  readonly unlockedWriter: UnlockedWriter | null;
}

/** What `status` says beside the lock when it does not read the process table. */
const NOT_OBSERVED: Pick<LockStatus, 'unlocked' | 'unlockedWriter'> = {
  unlocked: [],
  unlockedWriter: null,
};

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
    const s = readLockSnapshot(
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
    return { ...described, ...(table ? observe(described, table) : NOT_OBSERVED) };
  });
}

/** What the process table and the files say about a toolchain beyond its lock (never a lock). */
function observe(
  s: LockSnapshot,
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
  const s = readLockSnapshot(dir, key, { kernel: null, cleanup: false }, []);
  return {
    ...s,
    ...NOT_OBSERVED,
    toolchain: { name: t.name, path: canonicalToolchainPath(t.path) },
    state: 'free',
  };
}
