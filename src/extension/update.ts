// "Toolchain Lock: Update toolchain safely": pick → stop this window's servers → write lock (a
// cancellable progress naming whom it waits for) → the update command, output live → release → restart.
// Installs of missing toolchains (install.ts) run the same way.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeHolders, describeUnlocked, isLockError, LockError, status, waitForUnlocked, type LockStatus, type UnlockedReport } from '../lock';
import { resolveToolchain, rustupWrites, type ResolvedToolchain } from '../toolchains';
import type { Ctx } from './ctx';
import { runCommand } from './run';

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The argv that updates `t`, if we know one. rustup cannot update a linked toolchain. */
export function updateCommandOf(t: ResolvedToolchain): readonly string[] | undefined {
  if (t.updateCommand && t.updateCommand.length > 0) return t.updateCommand;
  if (t.rustupName && !t.linked) return ['rustup', 'update', t.rustupName];
  return undefined;
}

function describeLockState(s: LockStatus | undefined): string {
  if (!s) return 'free';
  switch (s.state) {
    case 'free':
      return 'free';
    case 'read':
      return `held for read by ${s.holders.length}`;
    case 'write':
      return 'being updated';
    case 'update-pending':
      return 'update pending';
  }
}

async function pickToolchain(ctx: Ctx, known: readonly ResolvedToolchain[]): Promise<ResolvedToolchain | undefined> {
  let statuses: LockStatus[] = [];
  try {
    statuses = status({ lockDir: ctx.lockDir(), toolchains: known });
  } catch (err) {
    ctx.log.warn(`cannot read the lock directory: ${message(err)}`);
  }
  const inUse = new Set((ctx.coordinator?.snapshot() ?? []).map((s) => s.key));
  const items = known.map((t, i) => ({
    label: t.name,
    description: [describeLockState(statuses[i]), statuses[i] && inUse.has(statuses[i].key) ? 'used by this window' : '', updateCommandOf(t) ? '' : 'no update command']
      .filter(Boolean)
      .join(' · '),
    detail: t.path,
    toolchain: t,
  }));
  const picked = await vscode.window.showQuickPick(items, { title: 'Update toolchain safely', placeHolder: 'Which toolchain?', matchOnDetail: true });
  return picked?.toolchain;
}

function find(ctx: Ctx, known: readonly ResolvedToolchain[], name: string): ResolvedToolchain | undefined {
  const byName = known.find((t) => t.name === name || t.path === name || t.rustupName === name);
  if (byName) return byName;
  try {
    return resolveToolchain(name, { configured: ctx.config.toolchains });
  } catch (err) {
    ctx.log.warn(`update: ${message(err)}`);
    return undefined;
  }
}

/** The command handler; `name` (a toolchain name or path) skips the quick pick. */
export async function updateToolchain(ctx: Ctx, name?: string): Promise<boolean> {
  if (ctx.unavailable) {
    void vscode.window.showErrorMessage(`Toolchain Lock cannot update safely in this editor, so it will not pretend to: ${ctx.unavailable}`, 'Open log').then((c) => c && ctx.log.show());
    return false;
  }
  if (!ctx.coordinator) {
    void vscode.window.showWarningMessage('Toolchain Lock is still starting; try again in a moment.');
    return false;
  }
  const known = ctx.knownToolchains();
  const toolchain = name ? find(ctx, known, name) : await pickToolchain(ctx, known);
  if (!toolchain) {
    if (name) void vscode.window.showErrorMessage(`Unknown toolchain "${name}". Known: ${known.map((t) => t.name).join(', ') || 'none'}.`);
    return false;
  }
  const argv = updateCommandOf(toolchain);
  if (!argv) {
    void vscode.window.showErrorMessage(`Toolchain ${toolchain.name} has no update command. Add one in the setting toolchainLock.toolchains ("updateCommand": [program, args...]).`);
    return false;
  }
  return runUnderWriteLock(ctx, { kind: 'update', toolchain, label: toolchain.name, argv });
}

/** A command that changes a toolchain, run from this window under the write lock. */
export interface LockedJob {
  readonly kind: 'update' | 'install';
  readonly toolchain: ResolvedToolchain;
  /** How messages name the toolchain. */
  readonly label: string;
  readonly argv: readonly string[];
}

const WORDS = {
  update: { doing: 'Updating', noun: 'Update', done: 'updated', afterCancel: 'servers restart on what is there' },
  install: { doing: 'Installing', noun: 'Install', done: 'installed', afterCancel: 'it is not installed' },
} as const;

/** Where update and install commands run: not in a folder, whose own files could steer them. */
function commandCwd(): string {
  return os.homedir();
}

/**
 * Every toolchain a job must hold for write: its own, and every one a rustup command changes,
 * planned exactly as `toolchain-lock rustup` plans it (`rustup update` without names changes all).
 */
function locksOf(job: LockedJob): ResolvedToolchain[] {
  const more = rustupWrites(job.argv, { cwd: commandCwd() });
  return [job.toolchain, ...more.filter((t) => t.path !== job.toolchain.path)];
}

/** The last lines a command wrote, kept short: its own reason when it fails. */
function outputTail(): { add(text: string): void; lines(): string } {
  let tail = '';
  return {
    add(text) {
      tail = (tail + text).slice(-2000);
    },
    lines() {
      return tail.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).slice(-2).join(' / ');
    },
  };
}

/**
 * Stops this window's servers on the job's toolchains, takes their write locks (a cancellable
 * progress naming whom it waits for), runs the command with its output live and in an update log,
 * releases and restarts. Resolves true when the command succeeded; failures are reported here.
 */
export async function runUnderWriteLock(ctx: Ctx, job: LockedJob): Promise<boolean> {
  const coordinator = ctx.coordinator;
  if (!coordinator) {
    void vscode.window.showWarningMessage('Toolchain Lock is still starting; try again in a moment.');
    return false;
  }
  const { toolchain, argv, label } = job;
  const words = WORDS[job.kind];
  const out = ctx.updateOutput;
  out.clear();
  out.show(true);
  out.appendLine(`${words.doing} ${label} (${toolchain.path})`);
  ctx.log.info(`${job.kind} of ${label} requested: ${argv.join(' ')}`);
  const started = Date.now();
  const tail = outputTail();
  try {
    const toolchains = locksOf(job);
    if (toolchains.length > 1) {
      const also = toolchains.slice(1).map((t) => t.name).join(', ');
      out.appendLine(`${argv.join(' ')} changes ${also} too: locking them as well`);
      ctx.log.info(`${job.kind} of ${label} also locks ${also}`);
    }
    // A command that runs toolchain-lock itself must find the locks this window takes.
    const lockDirEnv = ctx.config.lockDir !== undefined ? { TOOLCHAIN_LOCK_DIR: ctx.lockDir() } : {};
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `${words.doing} ${label}`, cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        progress.report({ message: 'stopping this window’s servers…' });
        await coordinator.update(
          toolchains,
          async (lock) => {
            await checkUnlocked(ctx, toolchains, { abort: abort.signal, report: (m) => progress.report({ message: m }), out });
            progress.report({ message: `running ${argv.join(' ')}` });
            const logFile = newUpdateLog(ctx.updateLogDir(), toolchain.name);
            out.appendLine(`$ ${argv.join(' ')}    (output also in ${logFile})`);
            ctx.log.info(`${job.kind} of ${label}: output in ${logFile}`);
            await runCommand(argv, {
              logFile,
              cwd: commandCwd(),
              env: { ...process.env, ...lockDirEnv, ...lock.childEnv() },
              fds: lock.fds,
              signal: abort.signal,
              onOutput: (text) => {
                out.append(text);
                tail.add(text);
              },
              onSpawn: (pid) => lock.addChild(pid),
            });
          },
          {
            command: argv,
            purpose: `${job.kind} from ${vscode.env.appName}`,
            signal: abort.signal,
            timeoutMs: ctx.config.updateTimeoutMs > 0 ? ctx.config.updateTimeoutMs : undefined,
            onWait: (blockers) => {
              const who = describeHolders(blockers);
              progress.report({ message: `waiting for ${who}` });
              out.appendLine(`Waiting for the write lock: ${who}`);
              ctx.log.info(`${job.kind} of ${label} waits for ${who}`);
            },
          },
        );
      },
    );
  } catch (err) {
    const cancelled = isLockError(err, 'E_ABORTED') || /^Cancelled/.test(message(err));
    const why = cancelled ? '' : [message(err), tail.lines()].filter(Boolean).join(' ');
    out.appendLine(cancelled ? 'Cancelled.' : `Failed: ${why}`);
    ctx.log.error(`${job.kind} of ${label} ${cancelled ? 'cancelled' : `failed: ${why}`}`);
    const text = cancelled ? `${words.noun} of ${label} cancelled; ${words.afterCancel}.` : `${words.doing} ${label} failed: ${why}`;
    void vscode.window.showErrorMessage(text, 'Show output').then((c) => c && out.show());
    return false;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  out.appendLine(`Done in ${seconds} s.`);
  ctx.log.info(`${job.kind} of ${label} done in ${seconds} s`);
  vscode.window.setStatusBarMessage(`$(check) ${label} ${words.done}`, 5000);
  return true;
}

function unlockedList(reports: readonly UnlockedReport[]): string {
  return reports.map((r) => `${r.toolchain.name}: ${r.processes.map(describeUnlocked).join('; ')}`).join('; ');
}

/**
 * Holding the write locks, before the command runs: programs running from the toolchains without
 * a lock are named in the progress and the output, waited for, and then the update goes on or
 * stops as `toolchainLock.unlockedProcesses` says (the CLI's `--unlocked`).
 */
async function checkUnlocked(ctx: Ctx, toolchains: readonly ResolvedToolchain[], io: { abort: AbortSignal; report(message: string): void; out: vscode.OutputChannel }): Promise<void> {
  const policy = ctx.config.unlockedProcesses;
  const timeoutMs = policy === 'fail' ? 0 : ctx.config.unlockedTimeoutMs;
  let named = false;
  const left = await waitForUnlocked(toolchains, {
    lockDir: ctx.lockDir(),
    timeoutMs,
    signal: io.abort,
    onProcesses(reports) {
      const list = unlockedList(reports);
      const wait = timeoutMs > 0 ? `; waiting up to ${Math.round(timeoutMs / 1000)} s for them to exit` : '';
      io.report(`running without a lock: ${list}${wait}`);
      io.out.appendLine(`${named ? 'Still running' : 'Running'} from the toolchain without a lock: ${list}${wait}`);
      ctx.log.info(`update: running without a lock: ${list}`);
      named = true;
    },
  });
  if (left.length === 0) {
    if (named) io.out.appendLine('They have exited; the update starts.');
    return;
  }
  if (policy === 'proceed') {
    io.out.appendLine('Updating anyway (toolchainLock.unlockedProcesses is "proceed"): they may fail while their files are replaced.');
    return;
  }
  throw new LockError(
    'E_UNLOCKED_PROCESSES',
    `Not updating: programs run from the toolchain without a lock and would have files replaced under them: ${unlockedList(left)}. Stop them and try again, or set toolchainLock.unlockedProcesses to "proceed".`,
  );
}

const KEEP_UPDATE_LOGS = 20;

/** A fresh log file for an update's output; the oldest beyond KEEP_UPDATE_LOGS go. */
export function newUpdateLog(dir: string, name: string): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const logs = updateLogs(dir);
  for (const old of logs.slice(KEEP_UPDATE_LOGS - 1)) fs.rmSync(old, { force: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return path.join(dir, `${name.replace(/[^A-Za-z0-9._-]/g, '_')}-${stamp}.log`);
}

/** The update logs in `dir`, newest first. */
export function updateLogs(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.log'));
  } catch {
    return [];
  }
  return names
    .map((n) => path.join(dir, n))
    .map((f) => ({ f, t: fs.statSync(f).mtimeMs }))
    .sort((a, b) => b.t - a.t)
    .map((x) => x.f);
}
