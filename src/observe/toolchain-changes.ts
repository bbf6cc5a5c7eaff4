// Updates without a lock: a toolchain's directories change while nobody holds its write lock
// (a plain `rustup update` from a terminal, cron or another editor). Linux: the module's inotify
// descriptor watches a few directories of the toolchain with "changes" (entries, writes, mode
// changes; never reads), so nothing polls while the toolchain is quiet. Elsewhere, and once that
// watcher's thread has failed, fs.watch of the same directories stands in (macOS: kqueue/FSEvents;
// Windows: ReadDirectoryChangesW).
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  selfIdentity,
  kernelWatch,
  kernelWatchAvailable,
  kernelWatchFailed,
  thisOs,
  listProcesses,
} from '../lock/os';
import {
  canonicalToolchainPath,
  toolchainKey,
  type Toolchain,
  defaultLockDir,
  recordLiveness,
  type Disposable,
  readLockSnapshot,
} from '../lock';
import { lockCoverage, lockedPids } from './unlocked-processes';
import {
  findWriter,
  toolchainWhole,
  type FoundWriter,
  type UnlockedWriter,
} from './unlocked-writers';

/** One start or end of a change without a lock (`watch --json`: event `unlocked-change`). */
export interface UnlockedChange {
  readonly time: string;
  readonly phase: 'started' | 'done';
  readonly key: string;
  readonly toolchain: Toolchain;
  readonly writer: UnlockedWriter | null;
}

export interface ChangeWatchOptions {
  readonly lockDir?: string;
  /** True while the caller holds the read lock: no write lock can be held then. */
  readonly holdingRead?: () => boolean;
  /**
   * True when the caller saw a writer of this toolchain lately (it stepped aside for one): changes
   * whose events arrive after that writer let go are still its own.
   */
  readonly writerSeenLately?: () => boolean;
  /** How long the directories must stay quiet (with the writer gone) before the change is over. */
  readonly quietMs?: number;
  readonly onChange: (change: UnlockedChange) => void;
  readonly onWarning?: (message: string) => void;
}

export interface ChangeWatch extends Disposable {
  /** The change under way, if any. */
  current(): UnlockedWriter | null | undefined;
}

/**
 * rustup's own directories for a toolchain in `<RUSTUP_HOME>/toolchains/`: it downloads and
 * unpacks there before it moves a single file of the toolchain, which lets servers stop before.
 */
function rustupDirs(root: string): string[] {
  const toolchains = path.dirname(root);
  if (path.basename(toolchains) !== 'toolchains') return [];
  const home = path.dirname(toolchains);
  return [home, path.join(home, 'tmp'), path.join(home, 'downloads')].filter((d) =>
    fs.existsSync(d),
  );
}

/** rustup's first moves land here; the std libraries of each target, and the binaries. */
function watchedDirs(root: string): string[] {
  const rustlib = path.join(root, 'lib', 'rustlib');
  const dirs = [
    root,
    path.join(root, 'bin'),
    path.join(root, 'lib'),
    path.join(root, 'libexec'),
    rustlib,
  ];
  try {
    for (const e of fs.readdirSync(rustlib, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name === 'etc' || e.name === 'src') continue;
      dirs.push(
        path.join(rustlib, e.name),
        path.join(rustlib, e.name, 'lib'),
        path.join(rustlib, e.name, 'bin'),
      );
    }
  } catch {
    // Not a rustup-style toolchain: its top directory, bin and lib are what there is.
  }
  return dirs.filter((d) => fs.existsSync(d));
}

/** A write lock seen this recently still explains changes (events arrive a moment after the writes). */
const WRITER_GRACE_MS = 2_000;
export const DEFAULT_QUIET_MS = 1_000;
export { WRITER_GRACE_MS };

/** Watches one toolchain for changes nobody holds the write lock for, until disposed. */
export function watchUnlockedChanges(
  toolchain: Toolchain,
  options: ChangeWatchOptions,
): ChangeWatch {
  const root = canonicalToolchainPath(toolchain.path);
  const key = toolchainKey(root);
  const named: Toolchain = { name: toolchain.name, path: root };
  const lockDir = options.lockDir ?? defaultLockDir();
  const quietMs = options.quietMs ?? DEFAULT_QUIET_MS;
  const watches = new Map<string, Disposable>();
  let disposed = false;
  let writeSeenAt = -Infinity;
  let active: { found: FoundWriter | null; lastEvent: number; lookedAt: number } | null = null;
  let timer: NodeJS.Timeout | undefined;

  const lockState = () =>
    readLockSnapshot(lockDir, key, { kernel: thisOs.readKernelLockTable(), cleanup: false });

  /**
   * Who writes, and whether a lock explains it; null writer when nobody could be named. `early`:
   * the event came from rustup's own directories, which only a rustup changing this toolchain
   * makes a change of it.
   */
  const judge = (early = false): { explained: boolean; found: FoundWriter | null } => {
    const holdingRead = options.holdingRead?.() === true;
    const s = lockState();
    if (!holdingRead && s.state === 'write') {
      writeSeenAt = Date.now();
      return { explained: true, found: null };
    }
    if (Date.now() - writeSeenAt < WRITER_GRACE_MS || options.writerSeenLately?.() === true)
      return { explained: true, found: null };
    const table = listProcesses();
    const covered = lockCoverage(s.lockFile, lockedPids(s.holders), table);
    const found = findWriter(root, table, covered, { anyOpener: !early });
    if (early && found?.writer.evidence !== 'rustup') return { explained: true, found: null };
    return { explained: found?.byHolder === true, found };
  };

  const writerRunning = (f: FoundWriter): boolean => {
    const self = selfIdentity();
    const p = f.process;
    return (
      recordLiveness(
        {
          protocol: 1,
          id: '',
          toolchain: named,
          mode: 'write',
          state: 'held',
          user: '',
          uid: null,
          client: '',
          command: [],
          purpose: null,
          since: new Date().toISOString(),
          children: [],
          pid: p.pid,
          startTime: p.startTime,
          host: self.host,
          bootId: self.bootId,
          pidNamespace: self.pidNamespace,
        },
        self,
      ) === 'alive'
    );
  };

  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(settle, quietMs);
  };

  const settle = (): void => {
    timer = undefined;
    if (disposed || !active) return;
    if (Date.now() - active.lastEvent < quietMs) return arm();
    // A toolchain removed for good (uninstalled) is not being changed any more: what uses it fails on its own.
    if (
      (active.found && writerRunning(active.found)) ||
      (fs.existsSync(root) && !toolchainWhole(root))
    )
      return arm();
    const writer = active.found?.writer ?? null;
    active = null;
    // Directories replaced during the change are watched anew.
    rewatch();
    options.onChange({
      time: new Date().toISOString(),
      phase: 'done',
      key,
      toolchain: named,
      writer,
    });
  };

  const early = new Set(rustupDirs(root));
  const onEvent = (kind: string, dir: string): void => {
    if (disposed) return;
    const fromRustup = early.has(dir);
    if (kind === 'gone') {
      // Moved or removed: nothing more comes from that watch; the directory in its place is watched.
      watches.get(dir)?.dispose();
      watches.delete(dir);
      rewatch();
    }
    const now = Date.now();
    if (active) {
      // rustup's own directories see other toolchains' work too: only the toolchain's files keep it going.
      if (!fromRustup) active.lastEvent = now;
      // The writer may show itself only after the first files moved (rustup unpacks first).
      if (!active.found && now - active.lookedAt > 250) {
        active.lookedAt = now;
        active.found = judge().found;
      }
      if (!timer) arm();
      return;
    }
    const { explained, found } = judge(fromRustup);
    if (explained) return;
    active = { found, lastEvent: now, lookedAt: now };
    arm();
    options.onChange({
      time: new Date(now).toISOString(),
      phase: 'started',
      key,
      toolchain: named,
      writer: found?.writer ?? null,
    });
  };

  const rewatch = (): void => {
    for (const dir of [...watchedDirs(root), ...early]) {
      if (watches.has(dir)) continue;
      try {
        watches.set(dir, watchDir(dir, onEvent));
      } catch (err) {
        options.onWarning?.(
          `Cannot watch ${dir} for changes without a lock: ${(err as Error).message}`,
        );
      }
    }
  };
  rewatch();

  return {
    current: () => (active ? (active.found?.writer ?? null) : undefined),
    dispose() {
      disposed = true;
      clearTimeout(timer);
      for (const w of watches.values()) w.dispose();
      watches.clear();
    },
  };
}

function watchDir(dir: string, onEvent: (kind: string, dir: string) => void): Disposable {
  if (!kernelWatchAvailable()) return fsWatchDir(dir, onEvent);
  let fallback: Disposable | undefined;
  let kernel: Disposable;
  try {
    kernel = kernelWatch(dir, 'changes', (_watched, kind) => {
      // The watcher thread is gone (its "failed" event): fs.watch hears this directory from now on.
      if (kind === 'failed') fallback ??= fsWatchDir(dir, onEvent);
      // Lost events (overflow) are not a change by themselves; a change under way keeps producing more.
      else if (kind === 'change' || kind === 'entry' || kind === 'dir-entry' || kind === 'gone')
        onEvent(kind, dir);
    });
  } catch (err) {
    // The thread failed before this watch; any other refusal (the inotify limit) is the caller's to report.
    if (!kernelWatchFailed()) throw err;
    return fsWatchDir(dir, onEvent);
  }
  return {
    dispose() {
      kernel.dispose();
      fallback?.dispose();
    },
  };
}

/**
 * fs.watch reports renames and content changes; some platforms also report reads as changes of
 * the access time (Windows with last-access updates on), which then count as changes.
 */
function fsWatchDir(dir: string, onEvent: (kind: string, dir: string) => void): Disposable {
  const w = fs.watch(dir, { persistent: false }, () => onEvent('change', dir));
  w.on('error', () => onEvent('gone', dir));
  return { dispose: () => w.close() };
}
