// A language server owned by another extension (rust-analyzer by default): we ask it to stop and
// start through its commands, and follow its real processes in the process table, because its
// stop command returns before they are gone and it restarts them on its own (the user's "Restart
// server", a settings change, a crash).
import * as vscode from 'vscode';
import { type Toolchain, isAlive, processTableSupported, type ProcessEntry } from '../../lock';
import type { CommandsConfig } from '../config';
import type { Logger, ServerUnit, UnitExit } from '../state';
import { findServerProcesses, serverRule, type ServerRule } from './coordinated-procs';

/** The id shown in logs and notifications: `rust-analyzer` for `rust-lang.rust-analyzer`. */
export function coordinatedId(extensionId: string): string {
  const dot = extensionId.indexOf('.');
  return dot >= 0 ? extensionId.slice(dot + 1) : extensionId;
}

/**
 * What its extension says through the API it exports, when that has rust-analyzer's shape
 * (`client`: a vscode-languageclient client, undefined once stopped and disposed): `none` when
 * there is no such API. `halted`: a client that stopped by itself, i.e. gave up after crashes.
 */
type ApiState = 'none' | 'stopped' | 'starting' | 'running' | 'halted';

/** vscode-languageclient's public `State`: Stopped = 1, Running = 2, Starting = 3. */
function apiState(extensionId: string): ApiState {
  const ext = vscode.extensions.getExtension(extensionId);
  const api: unknown = ext?.isActive ? ext.exports : undefined;
  if (typeof api !== 'object' || api === null || !('client' in api)) return 'none';
  const client = (api as { client?: { state?: unknown } }).client;
  if (client === undefined || client === null) return 'stopped';
  return client.state === 2 ? 'running' : client.state === 3 ? 'starting' : 'halted';
}

/** How often its state is looked at: the API and the known pids cost next to nothing; a full process-table scan a few ms (see observe). */
const TICK_MS = 100;
const SCAN_MS = 1000;
/** Between SIGTERM and SIGKILL when its processes are ended by force. */
const TERM_GRACE_MS = 250;
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface CoordinatedOptions {
  readonly log: Logger;
  /** Its extension waits for our start (rust-analyzer with `initializeStopped` from our defaults). */
  readonly startsStopped: boolean;
  /** A configured server binary (`rust-analyzer.server.path`), if any. */
  readonly serverPath?: string;
}

export class CoordinatedServer implements ServerUnit {
  readonly owned = false;
  readonly id: string;
  readonly signature: string;
  readonly startsStopped: boolean;
  private readonly rule: ServerRule;
  private readonly tracked = processTableSupported();
  /** Its processes last seen alive. */
  private procs: ProcessEntry[] = [];
  /** We stopped it (or hold it until the lock) and have not started it since. */
  private held: boolean;
  /** A start or stop of ours is under way: what changes meanwhile is ours. */
  private busy = 0;
  private running = false;
  /** Counts kills: a stop still waiting when its processes were ended by force stops waiting. */
  private kills = 0;
  private lastApi: ApiState = 'none';
  private lastScan = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly exitListeners = new Set<(exit: UnitExit) => void>();
  private readonly startListeners = new Set<() => void>();

  constructor(
    private readonly config: CommandsConfig,
    readonly toolchains: readonly Toolchain[],
    private readonly options: CoordinatedOptions,
  ) {
    this.id = coordinatedId(config.extensionId);
    this.startsStopped = options.startsStopped;
    this.held = options.startsStopped;
    this.signature = JSON.stringify({
      config,
      toolchains: toolchains.map((t) => t.path),
      startsStopped: options.startsStopped,
      serverPath: options.serverPath,
    });
    this.rule = serverRule(
      [this.id],
      options.serverPath ? [options.serverPath] : [],
      toolchains.map((t) => t.path),
    );
  }

  /** Its main process (the host's child among its processes), when seen. */
  get pid(): number | undefined {
    return (this.procs.find((p) => !this.procs.some((q) => q.pid === p.ppid)) ?? this.procs[0])
      ?.pid;
  }

  isRunning(): boolean {
    this.observe(true);
    return this.running;
  }

  async start(env: Readonly<Record<string, string>>): Promise<void> {
    void env; // its processes are its extension's to start; we cannot pass them an environment
    this.busy++;
    try {
      this.held = false;
      await vscode.commands.executeCommand(this.config.startCommand);
      this.observe(true);
      const api = apiState(this.config.extensionId);
      if (api === 'halted' || (!this.running && api !== 'none')) {
        throw new Error(
          `${this.config.startCommand} returned but ${this.config.extensionId} did not start its server${api === 'halted' ? ' (its client stopped)' : ''}`,
        );
      }
    } finally {
      this.busy--;
    }
  }

  /**
   * Resolves once its processes (server and their children from the toolchain) are gone. Where
   * there is no process table to look in (not Linux), once its stop command has returned.
   */
  async stop(): Promise<void> {
    this.busy++;
    try {
      this.held = true;
      this.observe(true);
      const before = this.procs;
      await vscode.commands.executeCommand(this.config.stopCommand);
      this.observe(true);
      // A child the server had until its last moment may no longer be below the host: keep the old list too.
      const all = new Map([...before, ...this.procs].map((p) => [p.pid, p]));
      this.procs = [...all.values()];
      // Bounded by the caller: after stopTimeout it calls kill(), and this wait ends with it.
      const kills = this.kills;
      while (this.kills === kills && this.live().length > 0) await delay(10);
      this.observe(false);
    } finally {
      this.busy--;
    }
  }

  /** SIGTERM to each of its processes, SIGKILL to those left after a short grace; names any that survive. */
  async kill(): Promise<void> {
    this.held = true;
    this.observe(true);
    const procs = this.procs;
    if (procs.length === 0 && !this.tracked) {
      this.options.log.warn(
        `server ${this.id}: ${this.config.stopCommand} did not finish in time; the server of ${this.config.extensionId} may still be running (its processes cannot be seen here)`,
      );
      return;
    }
    const signal = (sig: NodeJS.Signals): void => {
      for (const p of this.live()) {
        try {
          process.kill(p.pid, sig);
        } catch {
          // Gone meanwhile, or not ours to signal: reported below if it stays.
        }
      }
    };
    this.options.log.warn(
      `server ${this.id}: ending its processes ${procs.map((p) => `${p.pid} (${p.name})`).join(', ')}`,
    );
    signal('SIGTERM');
    const end = Date.now() + TERM_GRACE_MS;
    while (Date.now() < end && this.live().length > 0) await delay(10);
    signal('SIGKILL');
    const kill = Date.now() + TERM_GRACE_MS;
    while (Date.now() < kill && this.live().length > 0) await delay(10);
    const left = this.live();
    this.procs = left;
    this.kills++;
    if (left.length > 0)
      throw new Error(
        `processes ${left.map((p) => p.pid).join(', ')} of ${this.id} survived SIGKILL`,
      );
    this.observe(false);
  }

  onDidExit(listener: (exit: UnitExit) => void): { dispose(): void } {
    return this.subscribe(this.exitListeners, listener);
  }

  /** It came up without a start of ours: the user, a settings change, or its extension. */
  onDidStart(listener: () => void): { dispose(): void } {
    return this.subscribe(this.startListeners, listener);
  }

  private subscribe<T>(set: Set<T>, listener: T): { dispose(): void } {
    set.add(listener);
    if (!this.timer) {
      this.observe(true);
      this.timer = setInterval(() => this.tick(), TICK_MS);
      this.timer.unref?.();
    }
    return {
      dispose: () => {
        set.delete(listener);
        if (this.exitListeners.size + this.startListeners.size === 0) {
          clearInterval(this.timer);
          this.timer = undefined;
        }
      },
    };
  }

  private live(): ProcessEntry[] {
    return this.procs.filter((p) => isAlive(p.pid, p.startTime));
  }

  /**
   * Updates `procs` and `running`. A full scan when asked, when its API changed, or, at most every
   * SCAN_MS, when a server may be about that we do not know of: its API says it runs but none of its
   * processes is known (it comes up, or restarts after a crash), or it has no API and we hold it
   * stopped (an update: a restart by the user must be caught). Otherwise only the known pids.
   */
  private observe(scan: boolean): ApiState {
    const api = apiState(this.config.extensionId);
    this.procs = this.live();
    const unseen =
      api === 'none'
        ? this.held
        : (api === 'starting' || api === 'running') && this.procs.length === 0;
    if (
      this.tracked &&
      (scan ||
        api !== this.lastApi ||
        (unseen && Date.now() - this.lastScan >= (api === 'none' ? SCAN_MS : TICK_MS)))
    ) {
      this.lastScan = Date.now();
      const found = findServerProcesses(process.pid, this.rule);
      const known = new Set(this.procs.map((p) => p.pid));
      this.procs = [...this.procs, ...found.filter((p) => !known.has(p.pid))];
    }
    this.lastApi = api;
    if (api !== 'none') {
      this.running = this.procs.length > 0 || api === 'starting' || api === 'running';
    } else {
      // Without its API, a server we cannot see (not found, or no process table here) is taken to
      // run while its extension is active and we have not stopped it: its own stop goes unseen.
      this.running =
        this.procs.length > 0 ||
        (!this.held && vscode.extensions.getExtension(this.config.extensionId)?.isActive === true);
    }
    return api;
  }

  private tick(): void {
    if (this.busy > 0) return;
    const was = this.running;
    const procsBefore = this.procs.length;
    const api = this.observe(false);
    if (!was && this.running) {
      this.held = false;
      for (const l of [...this.startListeners]) l();
    } else if (was && !this.running) {
      const exit: UnitExit =
        api === 'halted'
          ? {
              final: true,
              message: `${this.config.extensionId} gave up on it (it crashed and will not be restarted)`,
            }
          : {
              final: true,
              byOwner: true,
              message: `it was stopped outside Toolchain Lock (${this.config.stopCommand} or its extension)`,
            };
      for (const l of [...this.exitListeners]) l(exit);
    } else if (this.running && procsBefore > 0 && this.procs.length === 0) {
      for (const l of [...this.exitListeners]) l({ final: false, message: 'its process exited' });
    }
  }
}
