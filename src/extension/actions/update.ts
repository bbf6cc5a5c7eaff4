// "Toolchain Lock: Update toolchain safely": pick → stop this window's servers → write lock (a
// cancellable progress naming whom it waits for) → the update command, output live → release → restart.
// Installs of missing toolchains (install.ts) run the same way.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeHolders, isLockError, message } from '../../lock';
import { status, type LockStatus } from '../../observe';
import {
  NO_AUTO_INSTALL_ENV,
  resolveToolchain,
  rustupWrites,
  updateCommandOf,
  type ResolvedToolchain,
} from '../../toolchains';
import type { Ctx } from '../ctx';
import { lockStateWords } from '../view';
import { CancelledError, runCommand } from './run-command';
import { checkUnlocked } from './update-unlocked';

/** The argv that updates `t`, if we know one. */
export function defaultUpdateOf(t: ResolvedToolchain): readonly string[] | undefined {
  const update = updateCommandOf([t]);
  return 'argv' in update ? update.argv : undefined;
}

function lockStateOf(s: LockStatus | undefined): string {
  if (!s) return lockStateWords('free');
  return s.state === 'read'
    ? vscode.l10n.t('held for read by {0}', s.holders.length)
    : lockStateWords(s.state);
}

async function pickToolchain(
  ctx: Ctx,
  known: readonly ResolvedToolchain[],
): Promise<ResolvedToolchain | undefined> {
  let statuses: LockStatus[] = [];
  try {
    statuses = status({ lockDir: ctx.lockDir(), toolchains: known });
  } catch (err) {
    ctx.log.warn(`cannot read the lock directory: ${message(err)}`);
  }
  const inUse = new Set((ctx.coordinator?.snapshot() ?? []).map((s) => s.key));
  const items = known.map((t, i) => ({
    label: t.name,
    description: [
      lockStateOf(statuses[i]),
      statuses[i] && inUse.has(statuses[i].key) ? vscode.l10n.t('used by this window') : '',
      defaultUpdateOf(t) ? '' : vscode.l10n.t('no update command'),
    ]
      .filter(Boolean)
      .join(' · '),
    detail: t.path,
    toolchain: t,
  }));
  const picked = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('Update toolchain safely'),
    placeHolder: vscode.l10n.t('Which toolchain?'),
    matchOnDetail: true,
  });
  return picked?.toolchain;
}

function find(
  ctx: Ctx,
  known: readonly ResolvedToolchain[],
  name: string,
): ResolvedToolchain | undefined {
  const byName = known.find((t) => t.name === name || t.path === name || t.rustupName === name);
  if (byName) return byName;
  try {
    return resolveToolchain(name, { configured: ctx.config.toolchains });
  } catch (err) {
    ctx.log.warn(`update: ${message(err)}`);
    return undefined;
  }
}

/** The command handler (run once the window can lock: commands.ts); `name` (a toolchain name or path) skips the quick pick. */
export async function updateToolchain(ctx: Ctx, name?: string): Promise<boolean> {
  const known = ctx.knownToolchains();
  const toolchain = name ? find(ctx, known, name) : await pickToolchain(ctx, known);
  if (!toolchain) {
    if (name)
      void vscode.window.showErrorMessage(
        vscode.l10n.t(
          'Unknown toolchain "{0}". Known: {1}.',
          name,
          known.map((t) => t.name).join(', ') || vscode.l10n.t('none'),
        ),
      );
    return false;
  }
  const update = updateCommandOf([toolchain]);
  if (!('argv' in update)) {
    void vscode.window.showErrorMessage(
      'linked' in update
        ? vscode.l10n.t(
            'Toolchain {0} is a linked toolchain (rustup cannot update it) and has no update command. Add one in the setting toolchainLock.toolchains ("updateCommand": [program, args...]).',
            toolchain.name,
          )
        : vscode.l10n.t(
            'Toolchain {0} has no update command. Add one in the setting toolchainLock.toolchains ("updateCommand": [program, args...]).',
            toolchain.name,
          ),
    );
    return false;
  }
  return runUnderWriteLock(ctx, {
    kind: 'update',
    toolchain,
    label: toolchain.name,
    argv: update.argv,
  });
}

/** A command that changes a toolchain, run from this window under the write lock. */
export interface LockedJob {
  readonly kind: 'update' | 'install';
  readonly toolchain: ResolvedToolchain;
  /** How messages name the toolchain. */
  readonly label: string;
  readonly argv: readonly string[];
}

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

/** Lines rustup and cargo start their reason with. */
const ERROR_LINE = /^error(?:\[[^\]]*\])?:/;

/**
 * A command's own reason when it fails, kept short: its last `error: …` line (rustup and cargo
 * print a backtrace after it under RUST_BACKTRACE), else the last lines it wrote.
 */
function outputTail(): { add(text: string): void; lines(): string } {
  let tail = '';
  let partial = '';
  let error: string | undefined;
  const see = (line: string): void => {
    if (ERROR_LINE.test(line.trim())) error = line.trim();
  };
  return {
    add(text) {
      tail = (tail + text).slice(-2000);
      const lines = (partial + text).split(/\r?\n/);
      partial = lines.pop()!.slice(-2000);
      lines.forEach(see);
    },
    lines() {
      see(partial);
      return (
        error ??
        tail
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter(Boolean)
          .slice(-2)
          .join(' / ')
      );
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
    void vscode.window.showWarningMessage(
      vscode.l10n.t('Toolchain Lock is still starting; try again in a moment.'),
    );
    return false;
  }
  const { toolchain, argv, label } = job;
  const out = ctx.updateOutput;
  out.clear();
  out.show(true);
  out.appendLine(
    job.kind === 'update'
      ? vscode.l10n.t('Updating {0} ({1})', label, toolchain.path)
      : vscode.l10n.t('Installing {0} ({1})', label, toolchain.path),
  );
  ctx.log.info(`${job.kind} of ${label} requested: ${argv.join(' ')}`);
  const started = Date.now();
  const tail = outputTail();
  try {
    const toolchains = locksOf(job);
    if (toolchains.length > 1) {
      const also = toolchains
        .slice(1)
        .map((t) => t.name)
        .join(', ');
      out.appendLine(
        vscode.l10n.t('{0} changes {1} too: locking them as well', argv.join(' '), also),
      );
      ctx.log.info(`${job.kind} of ${label} also locks ${also}`);
    }
    // A command that runs toolchain-lock itself must find the locks this window takes.
    const lockDirEnv =
      ctx.config.lockDir !== undefined ? { TOOLCHAIN_LOCK_DIR: ctx.lockDir() } : {};
    await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title:
          job.kind === 'update'
            ? vscode.l10n.t('Updating {0}', label)
            : vscode.l10n.t('Installing {0}', label),
        cancellable: true,
      },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        progress.report({ message: vscode.l10n.t('stopping this window’s servers…') });
        await coordinator.update(
          toolchains,
          async (lock) => {
            await checkUnlocked(ctx, toolchains, {
              abort: abort.signal,
              report: (m) => progress.report({ message: m }),
              out,
            });
            progress.report({ message: vscode.l10n.t('running {0}', argv.join(' ')) });
            const logFile = newUpdateLog(ctx.updateLogDir(), toolchain.name);
            out.appendLine(
              `$ ${argv.join(' ')}    (${vscode.l10n.t('output also in {0}', logFile)})`,
            );
            ctx.log.info(`${job.kind} of ${label}: output in ${logFile}`);
            await runCommand(argv, {
              logFile,
              cwd: commandCwd(),
              env: { ...process.env, ...NO_AUTO_INSTALL_ENV, ...lockDirEnv, ...lock.childEnv() },
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
              progress.report({ message: vscode.l10n.t('waiting for {0}', who) });
              out.appendLine(vscode.l10n.t('Waiting for the write lock: {0}', who));
              ctx.log.info(`${job.kind} of ${label} waits for ${who}`);
            },
          },
        );
      },
    );
  } catch (err) {
    const cancelled = err instanceof CancelledError || isLockError(err, 'E_ABORTED');
    const why = cancelled ? '' : [message(err), tail.lines()].filter(Boolean).join(' ');
    out.appendLine(cancelled ? vscode.l10n.t('Cancelled.') : vscode.l10n.t('Failed: {0}', why));
    ctx.log.error(`${job.kind} of ${label} ${cancelled ? 'cancelled' : `failed: ${why}`}`);
    const text =
      job.kind === 'update'
        ? cancelled
          ? vscode.l10n.t('Update of {0} cancelled; servers restart on what is there.', label)
          : vscode.l10n.t('Updating {0} failed: {1}', label, why)
        : cancelled
          ? vscode.l10n.t('Install of {0} cancelled; it is not installed.', label)
          : vscode.l10n.t('Installing {0} failed: {1}', label, why);
    void vscode.window
      .showErrorMessage(text, vscode.l10n.t('Show output'))
      .then((c) => c && out.show());
    return false;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  out.appendLine(vscode.l10n.t('Done in {0} s.', seconds));
  ctx.log.info(`${job.kind} of ${label} done in ${seconds} s`);
  vscode.window.setStatusBarMessage(
    `$(check) ${job.kind === 'update' ? vscode.l10n.t('{0} updated', label) : vscode.l10n.t('{0} installed', label)}`,
    5000,
  );
  return true;
}

const KEEP_UPDATE_LOGS = 20;

/** How a toolchain name appears in its update logs' file names. */
export function updateLogStem(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** A fresh log file for an update's output; the oldest beyond KEEP_UPDATE_LOGS go. */
export function newUpdateLog(dir: string, name: string): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const logs = updateLogs(dir);
  for (const old of logs.slice(KEEP_UPDATE_LOGS - 1)) fs.rmSync(old, { force: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return path.join(dir, `${updateLogStem(name)}-${stamp}.log`);
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
