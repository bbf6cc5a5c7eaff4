// One state machine per toolchain this window uses: it owns the read lock and orchestrates
// stop → release → reacquire → restart around updates. No `vscode` here, so the unit tests drive
// it under plain Node with fake servers and the real engine.
import * as fs from 'node:fs';
import { acquireRead, acquireWrite, describeHolder, describeHolders, HELD_ENV, isLockError, toolchainKey } from '../lock';
import type { Disposable, Holder, LockHandle, ReadLock, Toolchain } from '../lock';
import { Serial, type ServerUnit } from './servers/unit';

/** idle: not needed · acquiring: waiting for the read lock · holding: servers may run ·
 *  pending: someone else updates, servers stopped · updating: this window updates · error: no lock. */
export type ToolchainState = 'idle' | 'acquiring' | 'holding' | 'pending' | 'updating' | 'error';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** What a window is told when a writer makes it step aside. */
export interface StepAside {
  readonly toolchain: Toolchain;
  readonly writer: Holder;
  /** Ids of the servers stopped for the update (they restart when it is done). */
  readonly units: readonly string[];
}

export interface CoordinatorHooks {
  onChange?(): void;
  /** Servers were stopped for someone else's update; the returned function runs once they are back. */
  onStepAside?(info: StepAside): (() => void) | void;
  onUnitFailed?(unitId: string, message: string): void;
  onLockError?(toolchain: Toolchain, error: unknown): void;
}

export interface CoordinatorOptions {
  readonly lockDir?: string;
  readonly pollIntervalMs?: number;
  /** Read on every stop, so a settings change applies at once. */
  readonly stopTimeoutMs: () => number;
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
  readonly wanted: boolean;
  readonly running: boolean;
  readonly failed: string | null;
  readonly pid: number | undefined;
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
}

interface Slot {
  readonly unit: ServerUnit;
  readonly serial: Serial;
  /** Should run whenever its toolchains allow. */
  wanted: boolean;
  /** Started by us (or found running) and not stopped since. */
  running: boolean;
  /** A start is queued or under way (a stop queued now runs after it). */
  starting: boolean;
  /** Why it could not start; it is not restarted until retried. */
  failed: string | null;
  readonly exitSub: { dispose(): void };
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
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Holds this window's read locks and keeps its servers off toolchains being updated. */
export class LockCoordinator {
  private readonly entries = new Map<string, Entry>();
  private readonly slots = new Map<string, Slot>();
  private readonly abort = new AbortController();
  private disposed = false;
  private disposeStopTimeoutMs: number | undefined;

  constructor(private readonly options: CoordinatorOptions) {}

  /** Replaces the set of servers; unchanged ones (same id and signature) are left alone. */
  async setUnits(units: readonly ServerUnit[]): Promise<void> {
    const touched = new Set<Entry>();
    const next = new Map(units.map((u) => [u.id, u]));
    for (const [id, s] of this.slots) {
      const u = next.get(id);
      if (u && u.signature === s.unit.signature) continue;
      this.slots.delete(id);
      s.exitSub.dispose();
      s.wanted = false;
      for (const t of s.unit.toolchains) touched.add(this.entryFor(t));
      if (s.unit.owned) await s.serial.run(() => this.stopSlot(s));
    }
    for (const u of units) {
      if (this.slots.has(u.id)) continue;
      const running = u.isRunning();
      const slot: Slot = { unit: u, serial: new Serial(), wanted: u.owned || running, running, starting: false, failed: null, exitSub: u.onDidExit((exit) => this.onExit(slot, exit.final, exit.message)) };
      this.slots.set(u.id, slot);
      for (const t of u.toolchains) touched.add(this.entryFor(t));
    }
    this.changed();
    await Promise.all([...touched].map((e) => this.settle(e)));
  }

  /** Notices coordinated servers that came up on their own since they were registered. */
  async refresh(): Promise<void> {
    const touched = new Set<Entry>();
    for (const s of this.slots.values()) {
      if (s.wanted || s.failed || !s.unit.isRunning()) continue;
      s.wanted = s.running = true;
      this.options.log.info(`server ${s.unit.id} is running; taking its toolchains' read locks`);
      for (const t of s.unit.toolchains) touched.add(this.entryFor(t));
    }
    await Promise.all([...touched].map((e) => this.settle(e)));
  }

  /** Clears a server's failure and starts it again if its toolchains allow. */
  async retry(unitId: string): Promise<void> {
    const s = this.slots.get(unitId);
    if (!s) return;
    s.failed = null;
    s.wanted = true;
    this.changed();
    await Promise.all(s.unit.toolchains.map((t) => this.settle(this.entryFor(t))));
  }

  /**
   * Stops this window's servers on `toolchain`, takes the write lock, runs `run` and releases it;
   * resolves then, while the read lock is taken back and the servers restart in the background.
   */
  update(toolchain: Toolchain, run: (lock: LockHandle) => Promise<void>, options: UpdateOptions): Promise<void> {
    const e = this.entryFor(toolchain);
    // Waiting for someone else's update to end? Ours takes over (the servers are stopped already).
    e.preempted = true;
    e.waiting?.abort();
    return e.serial.run(async () => {
      e.preempted = false;
      if (this.disposed) throw new Error('This window is closing.');
      this.setState(e, 'updating');
      await this.stopSlotsOn(e);
      await this.dropRead(e);
      try {
        const started = Date.now();
        const lock = await acquireWrite([toolchain], {
          ...this.engineOptions(),
          command: options.command,
          purpose: options.purpose,
          signal: options.signal,
          timeoutMs: options.timeoutMs,
          onWait: options.onWait,
        });
        this.options.log.info(`write lock acquired ${e.toolchain.name} in ${Date.now() - started} ms`);
        try {
          await run(lock);
        } finally {
          await lock.release();
          this.options.log.info(`write lock released ${e.toolchain.name}`);
        }
      } finally {
        // Queued now, so it runs before anything that arrives later.
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
        units: units.map((s) => ({ id: s.unit.id, wanted: s.wanted, running: s.running, failed: s.failed, pid: s.unit.pid })),
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
    await Promise.all([...this.slots.values()].filter((s) => s.unit.owned && (s.running || s.starting)).map((s) => s.serial.run(() => this.stopSlot(s))));
    for (const s of this.slots.values()) s.exitSub.dispose();
    for (const e of this.entries.values()) await this.dropRead(e);
    this.options.log.info('all locks released');
  }

  private entryFor(toolchain: Toolchain): Entry {
    const key = toolchainKey(toolchain.path);
    let e = this.entries.get(key);
    if (!e) {
      e = { toolchain, key, serial: new Serial(), state: 'idle', since: Date.now(), lock: null, updateSub: null, writer: null, blockers: [], error: null, preempted: false, waiting: null };
      this.entries.set(key, e);
    }
    return e;
  }

  private slotsOn(e: Entry): Slot[] {
    return [...this.slots.values()].filter((s) => s.unit.toolchains.some((t) => toolchainKey(t.path) === e.key));
  }

  private needed(e: Entry): boolean {
    return this.slotsOn(e).some((s) => s.wanted && !s.failed);
  }

  private setState(e: Entry, state: ToolchainState, writer: Holder | null = null): void {
    if (e.state !== state) e.since = Date.now();
    e.state = state;
    e.writer = writer;
    if (state !== 'acquiring' && state !== 'pending') e.blockers = [];
    if (state !== 'error') e.error = null;
    this.changed();
  }

  private changed(): void {
    this.options.hooks?.onChange?.();
  }

  private engineOptions(): { lockDir?: string; pollIntervalMs?: number; client: string; command?: readonly string[]; signal: AbortSignal } {
    return {
      lockDir: this.options.lockDir,
      pollIntervalMs: this.options.pollIntervalMs,
      client: this.options.client ?? 'vscode',
      command: this.options.command,
      signal: this.abort.signal,
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
          purpose: `language servers: ${this.slotsOn(e).map((s) => s.unit.id).join(', ')}`,
          timeoutMs: noWait ? 0 : undefined,
          onWait: (blockers) => {
            e.blockers = blockers;
            log.info(`waiting for the read lock of ${e.toolchain.name}: ${describeHolders(blockers)}`);
            this.changed();
          },
        });
      } catch (err) {
        if (isLockError(err, 'E_WOULD_BLOCK')) {
          // Servers that came up before us (another extension's) must not run through an update.
          log.info(`read lock of ${e.toolchain.name} is taken (${message(err)}); stopping its servers and waiting`);
          noWait = false;
          await this.stopSlotsOn(e);
          continue;
        }
        if (this.disposed || e.preempted) return;
        log.error(`cannot take the read lock of ${e.toolchain.name}: ${message(err)}`);
        this.setState(e, 'error');
        e.error = message(err);
        this.options.hooks?.onLockError?.(e.toolchain, err);
        return;
      }
      finally {
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
        log.info(`update pending by ${describeHolder(pending)} on ${e.toolchain.name}; servers stay stopped`);
        this.setState(e, 'pending', pending);
        await delay(Math.min(this.options.pollIntervalMs ?? 100, 100));
        continue;
      }
      e.lock = lock;
      e.updateSub = sub;
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
    const done = this.options.hooks?.onStepAside?.({ toolchain: e.toolchain, writer, units: stopped });
    try {
      await this.resume(e);
    } finally {
      void this.startReady().finally(() => done?.());
    }
  }

  /** Stops the running (or starting) servers on `e`; returns their ids. */
  private async stopSlotsOn(e: Entry): Promise<string[]> {
    const running = this.slotsOn(e).filter((s) => s.running || s.starting);
    await Promise.all(running.map((s) => s.serial.run(() => this.stopSlot(s))));
    return running.map((s) => s.unit.id);
  }

  /** Graceful stop bounded by stopTimeout, then the process tree is killed: the lock is released only after. */
  private async stopSlot(s: Slot): Promise<void> {
    if (!s.running) return;
    const log = this.options.log;
    const limit = Math.min(this.options.stopTimeoutMs(), this.disposeStopTimeoutMs ?? Infinity);
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), limit)));
    const outcome = await Promise.race([s.unit.stop().then(() => 'stopped' as const, (err: unknown) => err), timeout]);
    clearTimeout(timer);
    if (outcome === 'stopped') {
      log.info(`server ${s.unit.id} stopped in ${Date.now() - started} ms`);
    } else {
      log.warn(`server ${s.unit.id} ${outcome === 'timeout' ? `did not stop within ${limit} ms` : `failed to stop (${message(outcome)})`}; killing its process tree`);
      try {
        await s.unit.kill();
      } catch (err) {
        log.error(`server ${s.unit.id} could not be killed: ${message(err)}`);
      }
      log.info(`server ${s.unit.id} killed after ${Date.now() - started} ms`);
    }
    s.running = false;
    this.changed();
  }

  /** Starts every wanted server whose toolchains are all held (or unlockable: it runs unprotected). */
  private async startReady(): Promise<void> {
    const ready = [...this.slots.values()].filter((s) => this.mayStart(s) && !s.starting);
    for (const s of ready) s.starting = true;
    await Promise.all(
      ready.map((s) =>
        s.serial.run(async () => {
          try {
            await this.startSlot(s);
          } finally {
            s.starting = false;
          }
        }),
      ),
    );
  }

  private mayStart(s: Slot): boolean {
    if (this.disposed || !s.wanted || s.running || s.failed !== null || !this.slots.has(s.unit.id)) return false;
    return s.unit.toolchains.every((t) => {
      const state = this.entries.get(toolchainKey(t.path))?.state;
      return state === 'holding' || state === 'error';
    });
  }

  private async startSlot(s: Slot): Promise<void> {
    if (!this.mayStart(s)) return;
    const missing = s.unit.toolchains.find((t) => !fs.existsSync(t.path));
    if (missing) {
      this.fail(s, `the toolchain directory ${missing.path} (${missing.name}) does not exist`);
      return;
    }
    const env: Record<string, string> = {};
    const held = new Set((process.env[HELD_ENV] ?? '').split(',').filter(Boolean));
    for (const t of s.unit.toolchains) {
      const lock = this.entries.get(toolchainKey(t.path))?.lock;
      if (lock) for (const k of (lock.childEnv()[HELD_ENV] ?? '').split(',').filter(Boolean)) held.add(k);
    }
    if (held.size > 0) env[HELD_ENV] = [...held].join(',');
    const started = Date.now();
    try {
      await s.unit.start(env);
    } catch (err) {
      this.fail(s, message(err));
      return;
    }
    s.running = true;
    const pid = s.unit.pid === undefined ? '' : ` pid=${s.unit.pid}`;
    this.options.log.info(`server ${s.unit.id} started${pid} in ${Date.now() - started} ms`);
    this.changed();
  }

  private fail(s: Slot, why: string): void {
    s.failed = why;
    s.running = false;
    this.options.log.error(`server ${s.unit.id} failed: ${why}`);
    this.options.hooks?.onUnitFailed?.(s.unit.id, why);
    this.changed();
    // Nothing else needs the lock? Then let it go; never loop restarting.
    for (const t of s.unit.toolchains) void this.settle(this.entryFor(t));
  }

  private onExit(s: Slot, final: boolean, why: string): void {
    if (this.disposed || !this.slots.has(s.unit.id)) return;
    this.options.log.warn(`server ${s.unit.id} exited unexpectedly (${why})${final ? '' : '; its client restarts it'}`);
    if (final) this.fail(s, `it exited and will not be restarted: ${why}`);
  }
}
