// The servers side of the lock state machine: which servers should run, starting them when their
// toolchains allow, stopping them within stopTimeout (then killing), failures that are not retried.
// No `vscode` here either.
import * as fs from 'node:fs';
import { message, type Toolchain } from '../../lock';
import { Serial, type ServerUnit, type UnitExit } from './server-unit';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** One server and what this window wants of it. */
export interface Slot {
  readonly unit: ServerUnit;
  /** Starts and stops of this server run one after another. */
  readonly serial: Serial;
  /** Should run whenever its toolchains allow. */
  wanted: boolean;
  /** Started by us (or found running) and not stopped since. */
  running: boolean;
  /** A start is queued or under way (a stop queued now cancels it, then runs). */
  starting: boolean;
  /** Aborts the start under way: a writer must not wait behind a server that never comes up. */
  cancelStart: AbortController | null;
  /** Why it could not start; it is not restarted until retried. */
  failed: string | null;
  readonly exitSub: { dispose(): void };
  readonly startSub: { dispose(): void } | undefined;
}

/** What the slots need from the lock side. */
export interface SlotHost {
  readonly log: Logger;
  stopTimeoutMs(): number;
  /** How long a start may take before the server is given up. */
  startTimeoutMs(): number;
  disposed(): boolean;
  changed(): void;
  /** True when servers on `toolchain` may run now (its read lock is held, or cannot be had at all). */
  mayRun(toolchain: Toolchain): boolean;
  /** Environment marking a server's processes as running under this window's read locks. */
  childEnv(toolchains: readonly Toolchain[]): Record<string, string>;
  /** A server failed for good: report it and let go of locks nobody needs any more. */
  failed(slot: Slot, why: string): void;
  /** Its owner stopped it on purpose: let go of locks nobody needs any more. */
  released(slot: Slot): void;
  /** Another extension started its server without us: take its locks, or stop it again if they cannot be had now. */
  startedOnItsOwn(slot: Slot): void;
}

export class ServerSlots {
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly host: SlotHost) {}

  all(): Slot[] {
    return [...this.slots.values()];
  }

  get(id: string): Slot | undefined {
    return this.slots.get(id);
  }

  /** Slots whose server uses a toolchain that `matches`. */
  using(matches: (t: Toolchain) => boolean): Slot[] {
    return this.all().filter((s) => s.unit.toolchains.some(matches));
  }

  /** Takes the new set of servers; unchanged ones (same id and signature) keep their slot. */
  replace(units: readonly ServerUnit[]): { removed: Slot[]; added: Slot[] } {
    const next = new Map(units.map((u) => [u.id, u]));
    const removed: Slot[] = [];
    const added: Slot[] = [];
    for (const [id, s] of this.slots) {
      const u = next.get(id);
      if (u && u.signature === s.unit.signature) continue;
      this.slots.delete(id);
      s.exitSub.dispose();
      s.startSub?.dispose();
      s.wanted = false;
      removed.push(s);
    }
    for (const u of units) {
      if (this.slots.has(u.id)) continue;
      const running = u.isRunning();
      // An owner that waits for our start (initializeStopped) wants its server as much as we do.
      const wanted = u.owned || running || u.startsStopped === true;
      const slot: Slot = {
        unit: u,
        serial: new Serial(),
        wanted,
        running,
        starting: false,
        cancelStart: null,
        failed: null,
        exitSub: u.onDidExit((exit) => this.onExit(slot, exit)),
        startSub: u.onDidStart?.(() => {
          if (!this.host.disposed() && this.slots.get(u.id) === slot)
            this.host.startedOnItsOwn(slot);
        }),
      };
      this.slots.set(u.id, slot);
      added.push(slot);
    }
    return { removed, added };
  }

  /** Stops these servers (cancelling any start under way); returns their ids. */
  async stopAll(slots: readonly Slot[]): Promise<string[]> {
    const running = slots.filter((s) => s.running || s.starting);
    for (const s of running) s.cancelStart?.abort();
    await Promise.all(running.map((s) => s.serial.run(() => this.stop(s))));
    return running.map((s) => s.unit.id);
  }

  /** Graceful stop bounded by stopTimeout, then the process tree is killed: locks go only after. */
  async stop(s: Slot): Promise<void> {
    if (!s.running) return;
    const log = this.host.log;
    const limit = this.host.stopTimeoutMs();
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), limit)),
    );
    const outcome = await Promise.race([
      s.unit.stop().then(
        () => 'stopped' as const,
        (err: unknown) => err,
      ),
      timeout,
    ]);
    clearTimeout(timer);
    if (outcome === 'stopped') {
      log.info(`server ${s.unit.id} stopped in ${Date.now() - started} ms`);
    } else {
      log.warn(
        `server ${s.unit.id} ${outcome === 'timeout' ? `did not stop within ${limit} ms` : `failed to stop (${message(outcome)})`}; killing its process tree`,
      );
      await this.killQuietly(s);
      log.info(`server ${s.unit.id} killed after ${Date.now() - started} ms`);
    }
    s.running = false;
    this.host.changed();
  }

  /** Starts every wanted server whose toolchains all allow it. */
  async startReady(): Promise<void> {
    const ready = this.all().filter((s) => this.mayStart(s) && !s.starting);
    for (const s of ready) s.starting = true;
    await Promise.all(
      ready.map((s) =>
        s.serial.run(async () => {
          try {
            await this.start(s);
          } finally {
            s.starting = false;
          }
        }),
      ),
    );
  }

  /** Marks a server failed: it stays down until retried. */
  fail(s: Slot, why: string): void {
    s.failed = why;
    s.running = false;
    this.host.log.error(`server ${s.unit.id} failed: ${why}`);
    this.host.changed();
    this.host.failed(s, why);
  }

  dispose(): void {
    for (const s of this.slots.values()) {
      s.exitSub.dispose();
      s.startSub?.dispose();
    }
  }

  private mayStart(s: Slot): boolean {
    if (
      this.host.disposed() ||
      !s.wanted ||
      s.running ||
      s.failed !== null ||
      this.slots.get(s.unit.id) !== s
    )
      return false;
    return s.unit.toolchains.every((t) => this.host.mayRun(t));
  }

  private async start(s: Slot): Promise<void> {
    // Checked again: things change while a start waits its turn.
    if (!this.mayStart(s)) return;
    const missing = s.unit.toolchains.find((t) => !fs.existsSync(t.path));
    if (missing) {
      this.fail(s, `the toolchain directory ${missing.path} (${missing.name}) does not exist`);
      return;
    }
    const started = Date.now();
    const limit = this.host.startTimeoutMs();
    const cancel = new AbortController();
    s.cancelStart = cancel;
    let timer: NodeJS.Timeout | undefined;
    let grace: NodeJS.Timeout | undefined;
    const starting = s.unit.start(this.host.childEnv(s.unit.toolchains));
    const outcome = await Promise.race([
      starting.then(
        () => 'started' as const,
        (err: unknown) => ({ err }),
      ),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), limit))),
      // A start about to finish may finish (then it is stopped gracefully); a stuck one gets what a stop gets.
      new Promise<'cancelled'>((resolve) =>
        cancel.signal.addEventListener(
          'abort',
          () => (grace = setTimeout(() => resolve('cancelled'), this.host.stopTimeoutMs())),
          { once: true },
        ),
      ),
    ]);
    clearTimeout(timer);
    clearTimeout(grace);
    s.cancelStart = null;
    if (typeof outcome === 'object') {
      this.fail(s, message(outcome.err));
      return;
    }
    if (outcome !== 'started') {
      // Whatever it got as far as starting runs from the toolchain: end it before any lock goes.
      this.host.log.warn(
        outcome === 'timeout'
          ? `server ${s.unit.id} did not start within ${limit} ms; killing it`
          : `start of server ${s.unit.id} cancelled: a stop was asked for and it did not come up within ${this.host.stopTimeoutMs()} ms; killing it`,
      );
      await this.killQuietly(s);
      // A start that completes after all would leave a server nobody knows about.
      void starting.then(
        async () => {
          if (!s.running && !s.starting) await this.killQuietly(s);
        },
        () => undefined,
      );
      if (outcome === 'timeout') this.fail(s, `it did not start within ${limit} ms`);
      return;
    }
    s.running = true;
    const pid = s.unit.pid === undefined ? '' : ` pid=${s.unit.pid}`;
    this.host.log.info(`server ${s.unit.id} started${pid} in ${Date.now() - started} ms`);
    this.host.changed();
  }

  private async killQuietly(s: Slot): Promise<void> {
    try {
      await s.unit.kill();
    } catch (err) {
      this.host.log.error(`server ${s.unit.id} could not be killed: ${message(err)}`);
    }
  }

  private onExit(s: Slot, exit: UnitExit): void {
    if (this.host.disposed() || this.slots.get(s.unit.id) !== s) return;
    const { final, message: why } = exit;
    if (exit.byOwner) {
      // The user's own stop: respected, and its locks go; it is wanted again when it starts again.
      this.host.log.info(`server ${s.unit.id}: ${why}; it stays stopped`);
      s.wanted = false;
      s.running = false;
      this.host.changed();
      this.host.released(s);
      return;
    }
    this.host.log.warn(
      `server ${s.unit.id} exited unexpectedly (${why})${final ? '' : '; its client restarts it'}`,
    );
    if (final) this.fail(s, `it exited and will not be restarted (${why})`);
  }
}
