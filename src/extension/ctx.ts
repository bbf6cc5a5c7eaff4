// One Ctx per window: it owns every disposable, the lock coordinator, the status bar and the log.
// `activate` builds it, `deactivate` disposes it; nothing else keeps long-lived state.
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  defaultLockDir,
  describeHolder,
  holderCommand,
  isLockError,
  message,
  nativeLock,
  status,
  toolchainKey,
  watch,
  type Disposable,
  type LockStatus,
  type Toolchain,
} from '../lock';
import { listRustupToolchains, resolveToolchain, type ResolvedToolchain } from '../toolchains';
import { registerCommands } from './commands';
import { configImpact, readConfig, SECTION, type Config } from './config';
import { InstallOffers } from './install';
import { useTranslator } from './l10n';
import { LockCoordinator, type StoppedUnlocked } from './lockstate';
import { Presentation } from './presentation';
import { announceOutsideChange, UnlockedObserver } from './outside';
import { updatePid } from './render';
import { buildUnits } from './servers';
import { Serial } from './servers/unit';
import { announceStepAside } from './stepaside';
import { TerminalEnvironment } from './terminal';

export class Ctx {
  readonly log: vscode.LogOutputChannel;
  /** The managed servers' stderr and their clients' messages. */
  readonly serverOutput: vscode.OutputChannel;
  /** Live output of update commands run from this window. */
  readonly updateOutput: vscode.OutputChannel;
  config: Config;
  coordinator: LockCoordinator | undefined;
  /** Toolchains the servers need that rustup has not installed, and their install offers. */
  readonly installs = new InstallOffers(this);
  /** Why locking cannot work in this editor (native module), or null. */
  unavailable: string | null = null;
  /** The status bar item, the Toolchain Locks view and the context keys, rendered from state. */
  readonly presentation: Presentation;
  private readonly terminal: TerminalEnvironment;
  /** Start, every rebuild of the coordinator and dispose run one at a time: never two coordinators. */
  private readonly lifecycle = new Serial();
  private readonly disposables: vscode.Disposable[] = [];
  private lockWatch: Disposable | undefined;
  private locks = new Map<string, LockStatus>();
  private readonly unlocked = new UnlockedObserver({
    lockDir: () => this.lockDir(),
    toolchains: () => (this.coordinator?.snapshot() ?? []).map((t) => t.toolchain),
    changed: () => this.render(),
    warn: (m) => this.log.warn(m),
  });
  private readonly shownProblems = new Set<string>();
  private rebuildTimer: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private unitsVersion = 0;
  private disposed = false;

  constructor(readonly extension: vscode.ExtensionContext) {
    useTranslator((message, ...args) => vscode.l10n.t(message, ...args));
    this.log = vscode.window.createOutputChannel('Toolchain Lock', { log: true });
    this.serverOutput = vscode.window.createOutputChannel('Toolchain Lock Servers');
    this.updateOutput = vscode.window.createOutputChannel('Toolchain Lock Update');
    this.presentation = new Presentation(this.log);
    this.terminal = new TerminalEnvironment(extension, this.log);
    this.config = readConfig();
    this.disposables.push(
      ...registerCommands(this),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(SECTION)) this.reconfigure();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.reconfigure(true)),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.scheduleUnits()),
      vscode.extensions.onDidChange(() => this.scheduleUnits()),
    );
    const toolchainFiles = vscode.workspace.createFileSystemWatcher(
      '**/{rust-toolchain,rust-toolchain.toml,Cargo.toml}',
    );
    this.disposables.push(
      toolchainFiles,
      toolchainFiles.onDidCreate(() => this.scheduleUnits()),
      toolchainFiles.onDidChange(() => this.scheduleUnits()),
      toolchainFiles.onDidDelete(() => this.scheduleUnits()),
    );
    this.render();
  }

  /** Everything that costs something happens here, after activation has returned. */
  async start(): Promise<void> {
    if (this.disposed) return;
    this.log.info(
      `activating in ${vscode.env.appName} ${vscode.version} (${process.versions.electron ? `Electron ${process.versions.electron}` : `Node ${process.versions.node}`}), trusted=${vscode.workspace.isTrusted}`,
    );
    try {
      nativeLock();
    } catch (err) {
      if (!isLockError(err, 'E_NATIVE_MODULE')) throw err;
      this.unavailable = err.message;
      this.log.error(err.message);
      void vscode.window
        .showErrorMessage(
          `Toolchain Lock cannot lock toolchains in this editor: ${err.message}`,
          'Open log',
        )
        .then((c) => c && this.log.show());
    }
    this.terminal.apply(this.config);
    await this.lifecycle.run(async () => {
      if (!this.disposed) this.startLocking();
    });
    await this.rebuildUnits();
    if (this.disposed) return;
    this.refreshTimer = setInterval(() => {
      // Values can vanish without a change event (see configImpact): look for ourselves too.
      this.reconfigure();
      void this.coordinator?.refresh();
    }, 5000);
    // A periodic look never keeps a process alive by itself (a host shutting down, a test).
    this.refreshTimer.unref?.();
  }

  lockDir(): string {
    return this.config.lockDir ?? defaultLockDir();
  }

  /** Where update output is kept, for this window and the next. */
  updateLogDir(): string {
    return path.join(this.extension.globalStorageUri.fsPath, 'update-logs');
  }

  /** Re-renders the status bar, the Locks view and the context keys from the current state. */
  render(): void {
    if (this.disposed) return;
    this.presentation.render({
      toolchains: this.coordinator?.snapshot() ?? [],
      locks: this.locks,
      unlocked: this.unlocked.byKey,
      unavailable: this.unavailable,
      missing: this.installs.current(),
      config: this.config,
      updateLogDir: this.updateLogDir(),
    });
  }

  /** Reads the lock directory once (Refresh in the Locks view); the watch keeps it current otherwise. */
  refreshLocks(): void {
    try {
      this.locks = new Map(status({ lockDir: this.lockDir() }).map((s) => [s.key, s]));
    } catch (err) {
      this.log.warn(`cannot read the lock directory ${this.lockDir()}: ${message(err)}`);
    }
    void this.coordinator?.refresh();
    this.render();
  }

  /** Every toolchain the user can update from here: configured, rustup's, and those in use. */
  knownToolchains(): ResolvedToolchain[] {
    const out = new Map<string, ResolvedToolchain>();
    const add = (t: ResolvedToolchain): void => void (out.has(t.path) || out.set(t.path, t));
    for (const c of this.config.toolchains) {
      try {
        add(resolveToolchain(c.name, { configured: this.config.toolchains }));
      } catch (err) {
        this.log.warn(`toolchain ${c.name}: ${message(err)}`);
      }
    }
    for (const s of this.coordinator?.snapshot() ?? []) {
      try {
        add(resolveToolchain(s.toolchain.path, { configured: this.config.toolchains }));
      } catch {
        add({ name: s.toolchain.name, path: s.toolchain.path, kind: 'path' });
      }
    }
    for (const t of listRustupToolchains()) add(t);
    return [...out.values()];
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.rebuildTimer);
    clearInterval(this.refreshTimer);
    for (const d of this.disposables) d.dispose();
    // VS Code gives deactivate a few seconds; servers get two of them to stop gracefully. A
    // rebuild under way ends first (its stops are bounded), and none starts after this.
    await this.lifecycle.run(() => this.stopLocking(Math.min(this.config.stopTimeoutMs, 2000)));
    this.unlocked.dispose();
    this.presentation.dispose();
    this.serverOutput.dispose();
    this.updateOutput.dispose();
    this.log.dispose();
  }

  private startLocking(): void {
    const lockDir = this.lockDir();
    this.log.info(`lock directory ${lockDir}`);
    this.coordinator = new LockCoordinator({
      lockDir,
      pollIntervalMs: this.config.pollIntervalMs,
      stopTimeoutMs: () => this.config.stopTimeoutMs,
      log: this.log,
      client: 'vscode',
      command: [`${vscode.env.appName} window`, vscode.workspace.name ?? '(no folder)'],
      hooks: {
        onChange: () => this.render(),
        onStepAside: (info) =>
          announceStepAside(
            info,
            this.config.notifyServerStopped,
            this.log,
            (this.coordinator?.snapshot() ?? []).flatMap((t) =>
              t.units.filter((u) => u.restartOnly).map((u) => u.id),
            ),
          ),
        onOutsideChange: (info) => {
          this.unlocked.refresh();
          return announceOutsideChange(info);
        },
        onUnitFailed: (id, why) => this.reportUnitFailure(id, why),
        onStoppedUnlocked: (info) => this.reportStoppedUnlocked(info),
        onLockError: (t, err) => this.reportLockError(t, err),
        onWarning: (m) => this.reportProblem(m),
      },
    });
    try {
      this.lockWatch = watch({
        lockDir,
        pollIntervalMs: this.config.pollIntervalMs,
        onEvent: (ev) => {
          if (!ev.holder.self)
            this.log.info(
              `lock directory: ${ev.event} ${ev.toolchain?.name ?? ev.key} by ${describeHolder(ev.holder)}`,
            );
        },
        onStatus: (statuses) => {
          this.locks = new Map(statuses.map((s) => [s.key, s]));
          this.render();
        },
        onWarning: (m) => this.reportProblem(m),
      });
    } catch (err) {
      this.reportProblem(
        `cannot watch the lock directory ${lockDir}; the status bar shows this window's own state only: ${message(err)}`,
      );
    }
  }

  private async stopLocking(stopTimeoutMs?: number): Promise<void> {
    this.lockWatch?.dispose();
    this.lockWatch = undefined;
    const coordinator = this.coordinator;
    this.coordinator = undefined;
    await coordinator?.dispose(stopTimeoutMs);
    this.locks = new Map();
  }

  /** Re-reads the settings and applies what changed; `force` takes the locks anew whatever changed. */
  private reconfigure(force = false): void {
    if (this.disposed) return;
    const before = this.config;
    this.config = readConfig();
    const impact = force ? 'lock' : configImpact(before, this.config);
    // Terminals opened from now on get the new values, whatever else the change needs.
    if (force || JSON.stringify(before) !== JSON.stringify(this.config)) {
      this.terminal.apply(this.config);
      // statusBar.show and the like: nothing else would redraw for them (the 5 s look must not).
      this.render();
    }
    if (impact === 'none') return;
    this.log.info(
      `settings changed (${impact === 'lock' ? 'lock directory, poll interval or trust: taking the locks anew' : 'servers or toolchains'})`,
    );
    if (impact === 'units') return this.scheduleUnits();
    void this.lifecycle.run(async () => {
      if (this.disposed) return;
      await this.stopLocking();
      if (this.disposed) return;
      this.startLocking();
      void this.rebuildUnits();
    });
  }

  private scheduleUnits(): void {
    clearTimeout(this.rebuildTimer);
    this.rebuildTimer = setTimeout(() => void this.rebuildUnits(), 300);
  }

  private async rebuildUnits(): Promise<void> {
    const version = ++this.unitsVersion;
    for (const p of this.config.problems) this.reportProblem(p);
    const { units, problems, missing } = await buildUnits(this.config, {
      log: this.log,
      output: this.serverOutput,
      stopTimeoutMs: () => this.config.stopTimeoutMs,
    });
    if (version !== this.unitsVersion || this.disposed || !this.coordinator) return;
    for (const p of problems) this.reportProblem(p);
    // Before the servers start: a server failing for want of its toolchain is the offer's to tell.
    this.installs.update(missing);
    this.log.info(
      `servers: ${units.map((u) => `${u.id} on ${u.toolchains.map((t) => t.name).join('+')}`).join(', ') || 'none'}`,
    );
    const kept = new Set(units.map((u) => u.id));
    const dropped = this.coordinator
      .snapshot()
      .flatMap((t) => t.units)
      .filter((u) => u.owned && u.running && !kept.has(u.id));
    const setting = this.coordinator.setUnits(units);
    if (dropped.length > 0) this.announceDropped([...new Set(dropped.map((u) => u.id))]);
    await setting;
  }

  /** A server stopped because of the settings is never a silent surprise. */
  private announceDropped(ids: readonly string[]): void {
    const listed = new Set(this.config.servers.map((s) => s.id));
    const why = ids.map((id) =>
      listed.has(id)
        ? `${id}: its entry in toolchainLock.servers no longer resolves (see the log)`
        : `${id}: toolchainLock.servers no longer lists it`,
    );
    const trust = vscode.workspace.isTrusted
      ? ''
      : ' In an untrusted workspace only user settings count.';
    const text = `Toolchain Lock stopped ${why.join('; ')}.${trust}`;
    this.log.warn(text);
    void vscode.window.showWarningMessage(text, 'Open Settings', 'Open log').then((choice) => {
      if (choice === 'Open Settings')
        vscode.commands
          .executeCommand('workbench.action.openSettings', `${SECTION}.servers`)
          .then(undefined, () => this.log.show());
      if (choice === 'Open log') this.log.show();
    });
  }

  private reportProblem(text: string): void {
    this.log.warn(text);
    if (this.shownProblems.has(text)) return;
    this.shownProblems.add(text);
    void vscode.window
      .showWarningMessage(`Toolchain Lock: ${text}`, 'Open log')
      .then((c) => c && this.log.show());
  }

  /** Once per server and update: a restart of theirs during an update is undone, never silently. */
  private reportStoppedUnlocked(info: StoppedUnlocked): void {
    const w = info.writer;
    const pid = w ? updatePid(w) : undefined;
    const key = `${info.unitId} ${toolchainKey(info.toolchain.path)} ${w ? `${w.pid} ${w.since ?? ''}` : 'waiting'}`;
    if (this.shownProblems.has(key)) return;
    this.shownProblems.add(key);
    const by = w ? ` by “${holderCommand(w)}”${pid !== undefined ? ` (pid ${pid})` : ''}` : '';
    const text = `${info.unitId} was started while toolchain ${info.toolchain.name} is being updated${by}; Toolchain Lock stopped it again. It starts when the update finishes.`;
    void vscode.window.showWarningMessage(text, 'Open log').then((c) => c && this.log.show());
  }

  private reportUnitFailure(id: string, why: string): void {
    const toolchains = (this.coordinator?.snapshot() ?? []).filter((t) =>
      t.units.some((u) => u.id === id),
    );
    if (toolchains.some((t) => this.installs.covers(t.key))) {
      this.installs.offer();
      return;
    }
    const unit = toolchains[0];
    const on = unit ? ` on toolchain ${unit.toolchain.name}` : '';
    void vscode.window
      .showErrorMessage(`${id} is not running${on}: ${why}`, 'Open log', 'Retry')
      .then((choice) => {
        if (choice === 'Open log') this.log.show();
        if (choice === 'Retry') void this.coordinator?.retry(id);
      });
  }

  private reportLockError(t: Toolchain, err: unknown): void {
    if (isLockError(err, 'E_NATIVE_MODULE')) return; // said once at start
    this.reportProblem(`cannot lock ${t.name}; its servers run unprotected: ${message(err)}`);
  }
}
