// "Toolchain Lock: Update toolchain safely": pick → stop this window's servers → write lock (a
// cancellable progress naming whom it waits for) → the update command, output live → release → restart.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeHolders, isLockError, status, type LockStatus } from '../lock';
import { resolveToolchain, type ResolvedToolchain } from '../toolchains';
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
  const coordinator = ctx.coordinator;
  if (!coordinator) {
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
  const out = ctx.updateOutput;
  out.clear();
  out.show(true);
  out.appendLine(`Updating ${toolchain.name} (${toolchain.path})`);
  ctx.log.info(`update of ${toolchain.name} requested: ${argv.join(' ')}`);
  const started = Date.now();
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Updating ${toolchain.name}`, cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        progress.report({ message: 'stopping this window’s servers…' });
        await coordinator.update(
          toolchain,
          async (lock) => {
            progress.report({ message: `running ${argv.join(' ')}` });
            const logFile = newUpdateLog(ctx.updateLogDir(), toolchain.name);
            out.appendLine(`$ ${argv.join(' ')}    (output also in ${logFile})`);
            ctx.log.info(`update of ${toolchain.name}: output in ${logFile}`);
            await runCommand(argv, {
              logFile,
              cwd: os.homedir(),
              env: { ...process.env, ...lock.childEnv() },
              fds: lock.fds,
              signal: abort.signal,
              onOutput: (text) => out.append(text),
              onSpawn: (pid) => lock.addChild(pid),
            });
          },
          {
            command: argv,
            purpose: `update from ${vscode.env.appName}`,
            signal: abort.signal,
            timeoutMs: ctx.config.updateTimeoutMs > 0 ? ctx.config.updateTimeoutMs : undefined,
            onWait: (blockers) => {
              const who = describeHolders(blockers);
              progress.report({ message: `waiting for ${who}` });
              out.appendLine(`Waiting for the write lock: ${who}`);
              ctx.log.info(`update of ${toolchain.name} waits for ${who}`);
            },
          },
        );
      },
    );
  } catch (err) {
    const cancelled = isLockError(err, 'E_ABORTED') || /^Cancelled/.test(message(err));
    out.appendLine(cancelled ? 'Cancelled.' : `Failed: ${message(err)}`);
    ctx.log.error(`update of ${toolchain.name} ${cancelled ? 'cancelled' : `failed: ${message(err)}`}`);
    const text = cancelled ? `Update of ${toolchain.name} cancelled; servers restart on what is there.` : `Updating ${toolchain.name} failed: ${message(err)}`;
    void vscode.window.showErrorMessage(text, 'Show output').then((c) => c && out.show());
    return false;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  out.appendLine(`Done in ${seconds} s.`);
  ctx.log.info(`update of ${toolchain.name} done in ${seconds} s`);
  vscode.window.setStatusBarMessage(`$(check) ${toolchain.name} updated`, 5000);
  return true;
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
