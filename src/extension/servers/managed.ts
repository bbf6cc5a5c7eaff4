// A language server this extension starts itself through vscode-languageclient. Start and stop are
// serialized (the client's stop() throws while it is still starting); a fresh client per start,
// because a client whose start failed cannot be started again.
import * as cp from 'node:child_process';
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  State,
  type DocumentSelector,
} from 'vscode-languageclient/node';
import {
  message,
  type Toolchain,
  groupSpawnOptions,
  killTree,
  reapTree,
  spawnFailure,
  waitForExit,
} from '../../lock';
import { NO_AUTO_INSTALL_ENV } from '../../toolchains';
import type { ManagedServerConfig } from '../config';
import { type Logger, Serial, type ServerUnit, type UnitExit } from '../state';

export interface ManagedDeps {
  readonly log: Logger;
  /** Where the servers' stderr and the client's own messages go. */
  readonly output: vscode.OutputChannel;
  readonly cwd: string | undefined;
  readonly stopTimeoutMs: () => number;
}

/** Crashes tolerated before the client stops restarting a server (like the client's default). */
const MAX_RESTARTS = 4;
const RESTART_WINDOW_MS = 3 * 60_000;

/** `${toolchainPath}` and `${toolchainName}` in command, args and env name the toolchain. */
function substitute(text: string, toolchain: Toolchain): string {
  return text
    .replaceAll('${toolchainPath}', toolchain.path)
    .replaceAll('${toolchainName}', toolchain.name);
}

/** The last lines a server wrote to stderr: its own reason when it dies while starting. */
const STDERR_TAIL = 3;

type Feature = Parameters<LanguageClient['registerFeature']>[0];
interface CommandRegistration {
  readonly id: string;
  readonly registerOptions: { readonly commands?: readonly string[] };
}

/**
 * A client that tolerates server commands (workspace/executeCommand) another extension already
 * registered — typescript-language-server's `_typescript.configurePlugin` clashes with VS Code's
 * built-in TypeScript support. Stock vscode-languageclient then fails the whole start; here each
 * command is registered on its own, a clashing one is skipped and reported, and the server runs.
 * Both patches use internals the public API has no hook for (`_onStart`, the ExecuteCommand
 * feature's register/unregister): the dependency is pinned exactly, and
 * test/unit/languageclient-internals.test.mjs fails when an upgrade moves them.
 */
class TolerantLanguageClient extends LanguageClient {
  onCommandClash: (command: string, err: unknown) => void = () => {};

  /**
   * Unhandled rejections of the client's own making, marked handled (callers that await still see
   * them). The client calls `void this.stop()` itself when initialize fails, and stop() rejects
   * while it is still starting.
   */
  override start(): Promise<void> {
    const starting = super.start();
    // When the server dies during initialize, start() resolves and the promise the client keeps
    // (it restarts through here too) is rejected with nobody listening.
    (this as unknown as { _onStart?: Promise<void> })._onStart?.catch(() => undefined);
    return starting;
  }

  override stop(timeout?: number): Promise<void> {
    const stopping = super.stop(timeout);
    stopping.catch(() => undefined);
    return stopping;
  }

  override registerFeature(feature: Feature): void {
    const f = feature as unknown as {
      registrationType?: { method?: string };
      register?: (data: CommandRegistration) => void;
      unregister?: (id: string) => void;
    };
    if (f.registrationType?.method === 'workspace/executeCommand' && f.register && f.unregister) {
      const register = f.register.bind(feature);
      const unregister = f.unregister.bind(feature);
      const parts = new Map<string, string[]>();
      f.register = (data) => {
        const ids: string[] = [];
        for (const command of data.registerOptions.commands ?? []) {
          const id = `${data.id}#${command}`;
          try {
            register({ id, registerOptions: { ...data.registerOptions, commands: [command] } });
            ids.push(id);
          } catch (err) {
            this.onCommandClash(command, err);
          }
        }
        parts.set(data.id, ids);
      };
      f.unregister = (id) => {
        for (const part of parts.get(id) ?? []) unregister(part);
        parts.delete(id);
      };
    }
    super.registerFeature(feature);
  }
}

export class ManagedServer implements ServerUnit {
  readonly owned = true;
  readonly toolchains: readonly Toolchain[];
  readonly signature: string;
  private readonly serial = new Serial();
  private readonly exitListeners = new Set<(exit: UnitExit) => void>();
  private client: LanguageClient | undefined;
  private child: cp.ChildProcess | undefined;
  /** Set while we stop or kill it: its exit is no crash. */
  private stopping = false;
  private starting = false;
  private crashes: number[] = [];
  /** How the current process ended, and what it said last (stderr). */
  private exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private stderrTail: string[] = [];
  private spawnError: Error | null = null;

  constructor(
    private readonly config: ManagedServerConfig,
    private readonly toolchain: Toolchain,
    private readonly deps: ManagedDeps,
  ) {
    this.toolchains = [toolchain];
    this.signature = JSON.stringify({ config, toolchain: toolchain.path, cwd: deps.cwd });
  }

  get id(): string {
    return this.config.id;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  isRunning(): boolean {
    return this.client !== undefined && this.client.state !== State.Stopped;
  }

  start(env: Readonly<Record<string, string>>): Promise<void> {
    return this.serial.run(async () => {
      if (this.client) return;
      this.stopping = false;
      this.starting = true;
      const client = new TolerantLanguageClient(
        `toolchainLock.${this.config.id}`,
        `${this.config.id} (Toolchain Lock)`,
        () => this.spawnServer(env),
        {
          documentSelector: this.config.documentSelector as DocumentSelector,
          outputChannel: this.deps.output,
          errorHandler: {
            error: () => ({ action: ErrorAction.Continue, handled: true }),
            closed: () => this.onClosed(),
          },
        },
      );
      client.onCommandClash = (command, err) =>
        this.deps.log.warn(
          `server ${this.config.id}: its command ${command} is already registered by another extension; not registered (${message(err)})`,
        );
      this.client = client;
      const command = substitute(this.config.command, this.toolchain);
      try {
        await client.start();
        if (client.state !== State.Running)
          throw new Error(this.exitReason() ?? 'the server exited while starting');
      } catch (err) {
        this.client = undefined;
        this.stopping = true;
        const child = this.child;
        // Its own exit status and last words say more than "connection closed"; they come a moment later.
        if (child && this.exit === null && this.spawnError === null) await waitForExit(child, 500);
        const why = this.exitReason() ?? message(err);
        if (child?.pid !== undefined) killTree(child.pid);
        await client.dispose(1000).catch(() => undefined);
        if (this.spawnError !== null) throw new Error(spawnFailure(command, this.spawnError));
        throw new Error(`${command} did not start: ${why}`);
      } finally {
        this.starting = false;
      }
    });
  }

  stop(): Promise<void> {
    return this.serial.run(async () => {
      const client = this.client;
      if (!client) return;
      this.stopping = true;
      const child = this.child;
      try {
        // stop() throws while the client is starting: wait that out first.
        if (client.state === State.Starting) await client.start().catch(() => undefined);
        // LSP shutdown request, then exit notification. The caller kills the tree after stopTimeout;
        // the client's own timeout comes later, because when it wins the race its pending shutdown
        // request is left to reject unhandled once the connection closes.
        if (client.state === State.Running) await client.stop(2 * this.deps.stopTimeoutMs() + 1000);
        if (child) {
          // On a timeout here the caller kills the tree; this wait then ends too.
          await waitForExit(child, this.deps.stopTimeoutMs() + 5000);
          // Helpers it left behind (build scripts, proc-macro servers) still use the toolchain.
          if (child.pid !== undefined && (await reapTree(child.pid, 1000)))
            this.deps.log.info(`server ${this.id}: ended processes it left behind`);
        }
      } finally {
        if (this.client === client) this.client = undefined;
        await client.dispose(1000).catch(() => undefined);
      }
    });
  }

  async kill(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child?.pid === undefined) return;
    killTree(child.pid);
    if (!(await waitForExit(child, 5000)))
      this.deps.log.error(`server ${this.id} pid=${child.pid} survived SIGKILL`);
  }

  onDidExit(listener: (exit: UnitExit) => void): { dispose(): void } {
    this.exitListeners.add(listener);
    return { dispose: () => this.exitListeners.delete(listener) };
  }

  /** Spawns the server ourselves (not through the client) to know its pid and own its process group. */
  private async spawnServer(lockEnv: Readonly<Record<string, string>>): Promise<cp.ChildProcess> {
    const t = this.toolchain;
    // The user's own env may say otherwise (e.g. RUSTUP_AUTO_INSTALL=1): theirs wins.
    const env: NodeJS.ProcessEnv = { ...process.env, ...NO_AUTO_INSTALL_ENV };
    for (const [k, v] of Object.entries(this.config.env)) env[k] = substitute(v, t);
    Object.assign(env, lockEnv);
    this.spawnError = null;
    this.exit = null;
    this.stderrTail = [];
    let child: cp.ChildProcess;
    try {
      child = cp.spawn(
        substitute(this.config.command, t),
        this.config.args.map((a) => substitute(a, t)),
        {
          ...groupSpawnOptions,
          cwd: this.deps.cwd,
          env,
          stdio: 'pipe',
          shell: false,
        },
      );
    } catch (err) {
      // Thrown at once for start failures Node does not expect (ENOTDIR, spawn UNKNOWN): the same
      // failure to start as an 'error' event, reported the same way.
      this.spawnError = err as Error;
      throw err;
    }
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => {
        this.spawnError = err;
        reject(err);
      });
    });
    const restarted = this.child !== undefined && !this.starting;
    this.child = child;
    if (restarted) this.deps.log.info(`server ${this.id} restarted pid=${child.pid}`);
    child.stderr?.on('data', (chunk: Buffer) => {
      const lines = chunk
        .toString('utf8')
        .split(/\r?\n/)
        .filter((l) => l.trim() !== '');
      this.stderrTail = [...this.stderrTail, ...lines].slice(-STDERR_TAIL);
    });
    child.once('exit', (code, signal) => {
      this.exit = { code, signal };
      this.deps.log.info(
        `server ${this.id} process pid=${child.pid} exited (${signal ?? `code ${code}`})`,
      );
    });
    return child;
  }

  /** "exited with code 3: <its last stderr lines>", once the process has ended. */
  private exitReason(): string | undefined {
    if (!this.exit) return undefined;
    const how = this.exit.signal
      ? `was killed by ${this.exit.signal}`
      : `exited with code ${this.exit.code}`;
    return this.stderrTail.length > 0 ? `it ${how}: ${this.stderrTail.join(' / ')}` : `it ${how}`;
  }

  private onClosed(): { action: CloseAction; handled: boolean } {
    if (this.stopping || this.starting) return { action: CloseAction.DoNotRestart, handled: true };
    const now = Date.now();
    this.crashes = [...this.crashes.filter((t) => now - t < RESTART_WINDOW_MS), now];
    const final = this.crashes.length > MAX_RESTARTS;
    // Only the facts: whoever reports a final exit says what follows from it.
    const message = final
      ? `crashed ${this.crashes.length} times in 3 minutes`
      : 'the server process ended';
    for (const l of this.exitListeners) l({ final, message });
    if (final) {
      const client = this.client;
      this.client = undefined;
      // After the client has finished handling the close.
      setTimeout(() => void client?.dispose(1000).catch(() => undefined), 0);
    }
    return { action: final ? CloseAction.DoNotRestart : CloseAction.Restart, handled: true };
  }
}
