// One state machine per toolchain this window uses: it owns the read lock and orchestrates
// stop → release → reacquire → restart around updates. No `vscode` here, so the unit tests drive
// it under plain Node with fake servers and the real engine.
import {
  acquireRead,
  acquireWrite,
  describeHolder,
  describeHolders,
  HELD_ENV,
  heldKeys,
  isLockError,
  message,
  toolchainKey,
  type Disposable,
  type Holder,
  type LockHandle,
  type ReadLock,
  type Toolchain,
} from '../../lock';
import {
  describeUnlockedWriter,
  watchUnlockedChanges,
  WRITER_GRACE_MS,
  type ChangeWatch,
  type UnlockedWriter,
} from '../../observe';
import { Serial, type ServerUnit } from './server-unit';
import { ServerSlots, type Logger, type Slot } from './slots';

export type { Logger } from './slots';

/** idle: not needed · acquiring: waiting for the read lock · holding: servers may run ·
 *  pending: someone else updates, servers stopped · updating: this window updates · error: no lock. */
export type ToolchainState = 'idle' | 'acquiring' | 'holding' | 'pending' | 'updating' | 'error';

/** What a window is told when a writer makes it step aside. */
export interface StepAside {
  readonly toolchain: Toolchain;
  readonly writer: Holder;
  /** Ids of the servers stopped for the update (they restart when it is done). */
  readonly units: readonly string[];
}

/** A toolchain changed by someone who holds no write lock (a plain `rustup update`). */
export interface UnlockedChangeInfo {
  readonly toolchain: Toolchain;
  /** Null when the writer could not be named. */
  readonly writer: UnlockedWriter | null;
  /** Ids of the servers stopped for it (they restart when it is over). */
  readonly units: readonly string[];
}

/** Why a server that came up on its own was stopped again. */
export interface StoppedUnlocked {
  readonly unitId: string;
  readonly toolchain: Toolchain;
  /** The update it gave way to, when known. */
  readonly writer: Holder | null;
}

export interface CoordinatorHooks {
  onChange?(): void;
  /** Servers were stopped for a change without a lock; the returned function runs once it is over. */
  onUnlockedChange?(info: UnlockedChangeInfo): (() => void) | void;
  /** Servers were stopped for someone else's update; the returned function runs once they are back. */
  onStepAside?(info: StepAside): (() => void) | void;
  onUnitFailed?(unitId: string, message: string): void;
  /** Another extension's server came up while its toolchain could not be used and was stopped again. */
  onStoppedUnlocked?(info: StoppedUnlocked): void;
  onLockError?(toolchain: Toolchain, error: unknown): void;
  /** The engine cannot watch as it would like (e.g. the inotify limit) and polls instead. */
  onWarning?(message: string): void;
}

export interface CoordinatorOptions {
  readonly lockDir?: string;
  readonly pollIntervalMs?: number;
  /** Read on every stop, so a settings change applies at once. */
  readonly stopTimeoutMs: () => number;
  /** Bound on one server start (default START_TIMEOUT_MS). */
  readonly startTimeoutMs?: () => number;
  readonly log: Logger;
  /** How this window presents itself in holder records. */
  readonly client?: string;
  readonly command?: readonly string[];
  readonly hooks?: CoordinatorHooks;
}

export interface UpdateOptions {
  /** The update command, shown to everyone waiting. */
  readonly command: readonly string[];
  readonly purpose?: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  readonly onWait?: (blockers: readonly Holder[]) => void;
}

export interface UnitSnapshot {
  readonly id: string;
  /** Started and stopped by this extension (not another extension's server). */
  readonly owned: boolean;
  readonly wanted: boolean;
  readonly running: boolean;
  readonly failed: string | null;
  readonly pid: number | undefined;
  /** It can only be restarted: it keeps running during an update. */
  readonly restartOnly: boolean;
}

export interface ToolchainSnapshot {
  readonly toolchain: Toolchain;
  readonly key: string;
  readonly state: ToolchainState;
  /** Date.now() when the state was entered. */
  readonly since: number;
  /** The pending or active writer this window stepped aside for. */
  readonly writer: Holder | null;
  /** Who this window waits for while acquiring. */
  readonly blockers: readonly Holder[];
  readonly error: string | null;
  readonly units: readonly UnitSnapshot[];
  /** Set while the toolchain is changed without a write lock: `writer` null when unnamed. */
  readonly unlockedChange: { readonly writer: UnlockedWriter | null } | null;
}

interface Entry {
  readonly toolchain: Toolchain;
  readonly key: string;
  readonly serial: Serial;
  state: ToolchainState;
  since: number;
  lock: ReadLock | null;
  updateSub: Disposable | null;
  writer: Holder | null;
  blockers: readonly Holder[];
  error: string | null;
  /** Set by an update of this window: whoever waits for the read lock stops waiting, the update takes over. */
  preempted: boolean;
  /** Aborts the current wait for the read lock. */
  waiting: AbortController | null;
  /** Watches the toolchain's files for changes nobody holds the write lock for. */
  changeWatch: ChangeWatch | null;
  /** When this window last stepped aside for (or ran) an update: its late file events are not unlocked changes. */
  writerSeenAt: number;
  /** A change without a lock under way: servers stay stopped until it is over. */
  unlockedChange: { writer: UnlockedWriter | null; done?: () => void } | null;
}

/** A server that has not come up after this long is given up (a stop cancels its start sooner). */
export const START_TIMEOUT_MS = 60_000;

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Holds this window's read locks and keeps its servers off toolchains being updated. */
export class LockCoordinator {
  private readonly entries = new Map<string, Entry>();
  private readonly servers: ServerSlots;
  private readonly abort = new AbortController();
  private disposed = false;
  private disposeStopTimeoutMs: number | undefined;

  constructor(private readonly options: CoordinatorOptions) {
    this.servers = new ServerSlots({
      log: options.log,
      stopTimeoutMs: () => Math.min(options.stopTimeoutMs(), this.disposeStopTimeoutMs ?? Infinity),
      startTimeoutMs: () => options.startTimeoutMs?.() ?? START_TIMEOUT_MS,
      disposed: () => this.disposed,
      changed: () => this.changed(),
      mayRun: (t) => {
        const e = this.entries.get(toolchainKey(t.path));
        return (e?.state === 'holding' || e?.state === 'error') && !e.unlockedChange;
      },
      childEnv: (toolchains) => this.childEnv(toolchains),
      failed: (slot, why) => {
        this.options.hooks?.onUnitFailed?.(slot.unit.id, why);
        // Nothing else needs the lock? Then let it go; never loop restarting.
        for (const t of slot.unit.toolchains) void this.settle(this.entryFor(t));
      },
      released: (slot) => {
        for (const t of slot.unit.toolchains) void this.settle(this.entryFor(t));
      },
      startedOnItsOwn: (slot) => void this.adopt(slot),
    });
  }

  /** Replaces the set of servers; unchanged ones (same id and signature) are left alone. */
  async setUnits(units: readonly ServerUnit[]): Promise<void> {
    const touched = new Set<Entry>();
    const { removed, added } = this.servers.replace(units);
    for (const s of [...removed, ...added])
      for (const t of s.unit.toolchains) touched.add(this.entryFor(t));
    await Promise.all(
      removed.filter((s) => s.unit.owned).map((s) => s.serial.run(() => this.servers.stop(s))),
    );
    this.changed();
    await Promise.all([...touched].map((e) => this.settle(e)));
  }

  /** Notices coordinated servers that came up on their own and were not reported (a unit without a watch). */
  async refresh(): Promise<void> {
    const found = this.servers
      .all()
      .filter((s) => !s.running && !s.starting && !s.failed && s.unit.isRunning());
    await Promise.all(found.map((s) => this.adopt(s)));
  }

  /** Clears a server's failure and starts it again if its toolchains allow. */
  async retry(unitId: string): Promise<void> {
    const s = this.servers.get(unitId);
    if (!s) return;
    s.failed = null;
    s.wanted = true;
    this.changed();
    await Promise.all(s.unit.toolchains.map((t) => this.settle(this.entryFor(t))));
  }

  /**
   * Stops this window's servers on `toolchains` (one, or every toolchain the update changes), takes
   * their write locks, runs `run` and releases them; resolves then, while the read locks are taken
   * back and the servers restart in the background.
   */
  update(
    toolchains: Toolchain | readonly Toolchain[],
    run: (lock: LockHandle) => Promise<void>,
    options: UpdateOptions,
  ): Promise<void> {
    const byKey = new Map<string, { toolchain: Toolchain; entry: Entry }>();
    for (const t of 'path' in toolchains ? [toolchains] : toolchains) {
      const entry = this.entryFor(t);
      if (!byKey.has(entry.key)) byKey.set(entry.key, { toolchain: t, entry });
    }
    // In key order: two updates over overlapping toolchains queue on the same entry first, never
    // each holding one entry's turn while waiting for the other's.
    const entries = [...byKey.values()]
      .map((x) => x.entry)
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const names = entries.map((e) => e.toolchain.name).join(', ');
    for (const e of entries) {
      // Waiting for someone else's update to end? Ours takes over (the servers are stopped already).
      e.preempted = true;
      e.waiting?.abort();
    }
    const inTurnOf = (i: number, task: () => Promise<void>): Promise<void> =>
      i === entries.length ? task() : entries[i]!.serial.run(() => inTurnOf(i + 1, task));
    return inTurnOf(0, async () => {
      for (const e of entries) e.preempted = false;
      if (this.disposed) throw new Error('This window is closing.');
      for (const e of entries) this.setState(e, 'updating');
      await Promise.all(entries.map((e) => this.stopSlotsOn(e)));
      for (const e of entries) await this.dropRead(e);
      try {
        const started = Date.now();
        const lock = await acquireWrite(
          [...byKey.values()].map((x) => x.toolchain),
          {
            ...this.engineOptions(),
            command: options.command,
            purpose: options.purpose,
            // Closing the window withdraws our intent too, or the update would run after we are gone.
            signal: options.signal
              ? AbortSignal.any([this.abort.signal, options.signal])
              : this.abort.signal,
            timeoutMs: options.timeoutMs,
            onWait: options.onWait,
          },
        );
        this.options.log.info(`write lock acquired ${names} in ${Date.now() - started} ms`);
        try {
          await run(lock);
        } finally {
          await lock.release();
          this.options.log.info(`write lock released ${names}`);
        }
      } finally {
        // Queued now, so it runs before anything that arrives later.
        for (const e of entries)
          void e.serial.run(() => this.resume(e)).then(() => this.startReady());
      }
    });
  }

  /** The state of every toolchain this window uses, for the status bar. */
  snapshot(): ToolchainSnapshot[] {
    return [...this.entries.values()]
      .map((e) => ({ e, units: this.slotsOn(e) }))
      .filter(({ e, units }) => units.length > 0 || e.state !== 'idle')
      .map(({ e, units }) => ({
        toolchain: e.toolchain,
        key: e.key,
        state: e.state,
        since: e.since,
        writer: e.writer,
        blockers: e.blockers,
        error: e.error,
        units: units.map((s) => ({
          id: s.unit.id,
          owned: s.unit.owned,
          wanted: s.wanted,
          running: s.running,
          failed: s.failed,
          pid: s.unit.pid,
          restartOnly: s.unit.restartOnly === true,
        })),
        unlockedChange: e.unlockedChange ? { writer: e.unlockedChange.writer } : null,
      }));
  }

  /**
   * Stops every server this window owns and releases every lock. `stopTimeoutMs` bounds each
   * graceful stop here (a closing window has little time; the kernel drops our locks at exit anyway).
   */
  async dispose(stopTimeoutMs?: number): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.disposeStopTimeoutMs = stopTimeoutMs;
    this.abort.abort();
    // A start under way finishes first (same serial), then its server is stopped.
    await this.servers.stopAll(this.servers.all().filter((s) => s.unit.owned));
    this.servers.dispose();
    for (const e of this.entries.values()) {
      e.changeWatch?.dispose();
      e.changeWatch = null;
      await this.dropRead(e);
    }
    this.options.log.info('all locks released');
  }

  private entryFor(toolchain: Toolchain): Entry {
    const key = toolchainKey(toolchain.path);
    let e = this.entries.get(key);
    if (!e) {
      e = {
        toolchain,
        key,
        serial: new Serial(),
        state: 'idle',
        since: Date.now(),
        lock: null,
        updateSub: null,
        writer: null,
        blockers: [],
        error: null,
        preempted: false,
        waiting: null,
        changeWatch: null,
        unlockedChange: null,
        writerSeenAt: -Infinity,
      };
      this.entries.set(key, e);
    }
    return e;
  }

  private slotsOn(e: Entry): Slot[] {
    return this.servers.using((t) => toolchainKey(t.path) === e.key);
  }

  /** Marks a server's processes as running under the read locks of its toolchains. */
  private childEnv(toolchains: readonly Toolchain[]): Record<string, string> {
    const held = heldKeys(process.env);
    for (const t of toolchains) {
      const lock = this.entries.get(toolchainKey(t.path))?.lock;
      if (lock) for (const k of heldKeys(lock.childEnv())) held.add(k);
    }
    return held.size > 0 ? { [HELD_ENV]: [...held].join(',') } : {};
  }

  private needed(e: Entry): boolean {
    return this.slotsOn(e).some((s) => s.wanted && !s.failed);
  }

  /** Every field a state shows is set before anyone is told (a status bar renders on the change). */
  private setState(
    e: Entry,
    state: ToolchainState,
    writer: Holder | null = null,
    error: string | null = null,
  ): void {
    if (e.state !== state) e.since = Date.now();
    if (
      e.state === 'pending' ||
      e.state === 'updating' ||
      state === 'pending' ||
      state === 'updating'
    )
      e.writerSeenAt = Date.now();
    e.state = state;
    e.writer = writer;
    if (state !== 'acquiring' && state !== 'pending') e.blockers = [];
    e.error = state === 'error' ? error : null;
    this.changed();
  }

  private changed(): void {
    this.options.hooks?.onChange?.();
  }

  private engineOptions(): {
    lockDir?: string;
    pollIntervalMs?: number;
    client: string;
    command?: readonly string[];
    signal: AbortSignal;
    onWarning: (m: string) => void;
  } {
    return {
      lockDir: this.options.lockDir,
      pollIntervalMs: this.options.pollIntervalMs,
      client: this.options.client ?? 'vscode',
      command: this.options.command,
      signal: this.abort.signal,
      // Unheard, the engine's default would go to process warnings nobody reads in an extension host.
      onWarning: (m) => {
        this.options.log.warn(m);
        this.options.hooks?.onWarning?.(m);
      },
    };
  }

  /** Takes or drops the read lock as the servers need, then starts those that may run. */
  private settle(e: Entry): Promise<void> {
    return e.serial.run(async () => {
      if (this.disposed) return;
      if (this.needed(e) && e.state === 'idle') await this.takeRead(e, true);
      else if (!this.needed(e) && (e.state === 'holding' || e.state === 'error')) {
        await this.dropRead(e);
        this.setState(e, 'idle');
      }
      // Not awaited: a writer arriving meanwhile must not queue behind a slow server start.
      void this.startReady();
    });
  }

  /** After an update (ours or someone else's): take the read lock again (starting is the caller's). */
  private async resume(e: Entry): Promise<void> {
    if (e.lock) return; // taken back already (two updates of ours queued back to back)
    if (this.needed(e)) await this.takeRead(e, false);
    else this.setState(e, 'idle');
  }

  /** Waits for the read lock; if a writer is already pending once it is ours, lets go and waits again. */
  private async takeRead(e: Entry, tryFirst: boolean): Promise<void> {
    const log = this.options.log;
    if (e.state !== 'pending') this.setState(e, 'acquiring');
    let noWait = tryFirst;
    for (;;) {
      if (this.disposed || e.preempted) return;
      const started = Date.now();
      let lock: ReadLock;
      const waiting = new AbortController();
      e.waiting = waiting;
      try {
        lock = await acquireRead(e.toolchain, {
          ...this.engineOptions(),
          signal: AbortSignal.any([this.abort.signal, waiting.signal]),
          purpose: `language servers: ${this.slotsOn(e)
            .map((s) => s.unit.id)
            .join(', ')}`,
          timeoutMs: noWait ? 0 : undefined,
          onWait: (blockers) => {
            e.blockers = blockers;
            log.info(
              `waiting for the read lock of ${e.toolchain.name}: ${describeHolders(blockers)}`,
            );
            this.changed();
          },
        });
      } catch (err) {
        if (isLockError(err, 'E_WOULD_BLOCK')) {
          // Servers that came up before us (another extension's) must not run through an update.
          log.info(
            `read lock of ${e.toolchain.name} is taken (${message(err)}); stopping its servers and waiting`,
          );
          noWait = false;
          const stopped = await this.stopSlotsOn(e);
          for (const unitId of stopped)
            this.options.hooks?.onStoppedUnlocked?.({
              unitId,
              toolchain: e.toolchain,
              writer: null,
            });
          continue;
        }
        if (this.disposed || e.preempted) return;
        log.error(`cannot take the read lock of ${e.toolchain.name}: ${message(err)}`);
        this.setState(e, 'error', null, message(err));
        this.options.hooks?.onLockError?.(e.toolchain, err);
        return;
      } finally {
        e.waiting = null;
      }
      noWait = false;
      if (this.disposed || e.preempted) {
        await lock.release();
        return;
      }
      let checking = true;
      let pending: Holder | null = null;
      const sub = lock.onUpdatePending((writer) => {
        if (checking) pending ??= writer;
        else void e.serial.run(() => this.stepAside(e, lock, writer));
      });
      checking = false;
      if (pending !== null) {
        // Two updates back to back: no server starts in between.
        sub.dispose();
        await lock.release();
        log.info(
          `update pending by ${describeHolder(pending)} on ${e.toolchain.name}; servers stay stopped`,
        );
        this.setState(e, 'pending', pending);
        await delay(Math.min(this.options.pollIntervalMs ?? 100, 100));
        continue;
      }
      e.lock = lock;
      e.updateSub = sub;
      this.watchUnlockedChanges(e);
      this.setState(e, 'holding');
      log.info(`read lock acquired ${e.toolchain.name} in ${Date.now() - started} ms`);
      return;
    }
  }

  private async dropRead(e: Entry): Promise<void> {
    e.updateSub?.dispose();
    e.updateSub = null;
    const lock = e.lock;
    e.lock = null;
    if (lock && !lock.released) {
      await lock.release();
      this.options.log.info(`read lock released ${e.toolchain.name}`);
    }
  }

  /** A writer announced itself: stop the servers, let go, wait for it, take the lock back, restart. */
  private async stepAside(e: Entry, lock: ReadLock, writer: Holder): Promise<void> {
    if (this.disposed || e.lock !== lock || lock.released) return;
    this.options.log.info(`update pending by ${describeHolder(writer)} on ${e.toolchain.name}`);
    this.setState(e, 'pending', writer);
    const stopped = await this.stopSlotsOn(e);
    await this.dropRead(e);
    const done = this.options.hooks?.onStepAside?.({
      toolchain: e.toolchain,
      writer,
      units: stopped,
    });
    try {
      await this.resume(e);
    } finally {
      void this.startReady().finally(() => done?.());
    }
  }

  /**
   * From the first read lock on: a change of the toolchain's files without a write lock stops its
   * servers at once (not queued behind the entry's other work) and starts them once it is over.
   */
  private watchUnlockedChanges(e: Entry): void {
    if (e.changeWatch || this.disposed) return;
    const log = this.options.log;
    try {
      e.changeWatch = watchUnlockedChanges(e.toolchain, {
        lockDir: this.options.lockDir,
        holdingRead: () => e.lock !== null && !e.lock.released,
        writerSeenLately: () =>
          e.state === 'pending' ||
          e.state === 'updating' ||
          Date.now() - e.writerSeenAt < WRITER_GRACE_MS,
        onWarning: (m) => log.warn(m),
        onChange: (c) => {
          if (this.disposed) return;
          const who = c.writer
            ? describeUnlockedWriter(c.writer)
            : 'a process that could not be named';
          if (c.phase === 'started') {
            if (e.unlockedChange) return;
            const change: { writer: UnlockedWriter | null; done?: () => void } = {
              writer: c.writer,
            };
            e.unlockedChange = change;
            log.info(
              `${e.toolchain.name} is being changed outside Toolchain Lock by ${who}; stopping its servers`,
            );
            this.changed();
            void this.stopSlotsOn(e).then((units) => {
              if (e.unlockedChange !== change) return;
              const done = this.options.hooks?.onUnlockedChange?.({
                toolchain: e.toolchain,
                writer: c.writer,
                units,
              });
              if (done) change.done = done;
            });
            return;
          }
          const change = e.unlockedChange;
          if (!change) return;
          e.unlockedChange = null;
          log.info(
            `${e.toolchain.name} changed outside Toolchain Lock by ${who} is whole again; starting its servers`,
          );
          this.changed();
          void this.startReady().finally(() => change.done?.());
        },
      });
    } catch (err) {
      log.warn(`cannot watch ${e.toolchain.path} for changes without a lock: ${message(err)}`);
    }
  }

  /**
   * A server came up without us (the user's "Restart server", a settings change): it runs under the
   * read locks if they are held or can be had; while its toolchain is being updated, or this window
   * still waits for the lock, or its files are being changed without a lock, it is stopped again
   * at once, the user is told why, and it starts with the others once the lock is held.
   */
  private async adopt(s: Slot): Promise<void> {
    if (this.disposed || s.running || s.starting) return;
    s.failed = null;
    s.wanted = s.running = true;
    this.changed();
    const entries = s.unit.toolchains.map((t) => this.entryFor(t));
    const blocked = entries.find(
      (e) =>
        e.unlockedChange ||
        e.state === 'pending' ||
        e.state === 'updating' ||
        e.state === 'acquiring',
    );
    if (blocked) {
      const why = blocked.unlockedChange
        ? `it is being changed outside Toolchain Lock${blocked.unlockedChange.writer ? ` by ${describeUnlockedWriter(blocked.unlockedChange.writer)}` : ''}`
        : blocked.state === 'acquiring'
          ? 'this window waits for its read lock'
          : `it is being updated${blocked.writer ? ` by ${describeHolder(blocked.writer)}` : ''}`;
      this.options.log.warn(
        `server ${s.unit.id} was started while ${blocked.toolchain.name} cannot be used (${why}); stopping it again`,
      );
      this.options.hooks?.onStoppedUnlocked?.({
        unitId: s.unit.id,
        toolchain: blocked.toolchain,
        writer: blocked.writer,
      });
      await s.serial.run(() => this.servers.stop(s));
      // It stays wanted: it starts again once the read locks are held.
      void this.startReady();
      return;
    }
    this.options.log.info(
      `server ${s.unit.id} was started by its extension; ${entries.every((e) => e.lock) ? 'it runs under the read lock' : "taking its toolchains' read locks"}`,
    );
    await Promise.all(entries.map((e) => this.settle(e)));
  }

  private stopSlotsOn(e: Entry): Promise<string[]> {
    return this.servers.stopAll(this.slotsOn(e));
  }

  private startReady(): Promise<void> {
    return this.servers.startReady();
  }
}
