// One Ctx per window: it owns every disposable, the lock coordinator, the status bar and the log,
// and decides when locking starts and stops. `activate` builds it, `deactivate` disposes it; nothing
// else keeps long-lived state. What goes wrong is told by view/alerts.ts; the lock directory as everyone
// sees it is view/lockdir-view.ts.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { defaultLockDir, isLockError, message, nativeLock } from '../lock';
import { listRustupToolchains, resolveToolchain, type ResolvedToolchain } from '../toolchains';
import {
  Alerts,
  LockDirView,
  Presentation,
  announceUnlockedChange,
  UnlockedObserver,
  announceStepAside,
} from './view';
import { registerCommands } from './commands';
import { configImpact, readConfig, SECTION, type Config } from './config';
import { InstallOffers } from './actions';
import { useTranslator } from './l10n';
import { LockCoordinator, Serial } from './state';
import { buildUnits } from './servers';
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
  /** Failure and warning notifications, each problem shown once. */
  readonly alerts = new Alerts(this);
  /** Why locking cannot work in this editor (native module), or null. */
  unavailable: string | null = null;
  /** The status bar item, the Toolchain Locks view and the context keys, rendered from state. */
  readonly presentation: Presentation;
  private readonly terminal: TerminalEnvironment;
  /** Start, every rebuild of the coordinator and dispose run one at a time: never two coordinators. */
  private readonly lifecycle = new Serial();
  private readonly disposables: vscode.Disposable[] = [];
  /** Every lock in the lock directory, this window's and everyone else's. */
  private readonly lockDirView: LockDirView;
  private readonly unlocked = new UnlockedObserver({
    lockDir: () => this.lockDir(),
    toolchains: () => (this.coordinator?.snapshot() ?? []).map((t) => t.toolchain),
    changed: () => this.render(),
    warn: (m) => this.log.warn(m),
  });
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
    this.lockDirView = new LockDirView({
      lockDir: () => this.lockDir(),
      log: this.log,
      changed: () => this.render(),
      problem: (p) => this.alerts.problem(p),
    });
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
      this.alerts.unavailable(err.message);
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
      locks: this.lockDirView.byKey,
      unlocked: this.unlocked.byKey,
      unavailable: this.unavailable,
      missing: this.installs.current(),
      config: this.config,
      updateLogDir: this.updateLogDir(),
    });
  }

  /** Reads the lock directory once (Refresh in the Locks view); the watch keeps it current otherwise. */
  refreshLocks(): void {
    this.lockDirView.read();
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
        onUnlockedChange: (info) => {
          this.unlocked.refresh();
          return announceUnlockedChange(info);
        },
        onUnitFailed: (id, why) => this.alerts.unitFailure(id, why),
        onStoppedUnlocked: (info) => this.alerts.stoppedUnlocked(info),
        onLockError: (t, err) => this.alerts.lockError(t, err),
        onWarning: (m) => this.alerts.problem(m),
      },
    });
    this.lockDirView.start(lockDir, this.config.pollIntervalMs);
  }

  private async stopLocking(stopTimeoutMs?: number): Promise<void> {
    this.lockDirView.stop();
    const coordinator = this.coordinator;
    this.coordinator = undefined;
    await coordinator?.dispose(stopTimeoutMs);
    this.lockDirView.clear();
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
    for (const p of this.config.problems) this.alerts.problem(p);
    const { units, problems, missing } = await buildUnits(this.config, {
      log: this.log,
      output: this.serverOutput,
      stopTimeoutMs: () => this.config.stopTimeoutMs,
    });
    if (version !== this.unitsVersion || this.disposed || !this.coordinator) return;
    for (const p of problems) this.alerts.problem(p);
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
    if (dropped.length > 0) this.alerts.dropped([...new Set(dropped.map((u) => u.id))]);
    await setting;
  }
}
