// Every contributed command, in one table; handlers are thin and call into the services. Where a
// command applies is said by package.json's `when` clauses over the context keys (contextkeys.ts),
// so the palette and the Locks view offer only what can run. Commands run from a Locks view row
// get the row (a LockNode) as their argument.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SECTION } from './config';
import type { Ctx } from './ctx';
import { installToolchain } from './install';
import { showLocks } from './locks';
import { toolchainArgument } from './locksview';
import type { LockNode } from './locktree';
import { updateLogs, updateLogStem, updateToolchain } from './update';

type Handler = (ctx: Ctx, ...args: unknown[]) => unknown;

export const COMMANDS = {
  /** Optional argument: a toolchain name or path (or a Locks view row), to skip the quick pick. */
  'toolchainLock.updateToolchain': (ctx, arg) => updateToolchain(ctx, toolchainArgument(arg, 'path')),
  /** Optional argument: the name of a missing toolchain (or its Locks view row), to skip the quick pick. */
  'toolchainLock.installToolchain': (ctx, arg) => installToolchain(ctx, toolchainArgument(arg, 'name')),
  'toolchainLock.showLocks': (ctx) => showLocks(ctx),
  'toolchainLock.openLog': (ctx) => ctx.log.show(),
  /** Optional argument: a toolchain name (or a Locks view row): its newest update log. */
  'toolchainLock.openUpdateLog': (ctx, arg) => openLastUpdateLog(ctx, toolchainArgument(arg, 'name')),
  'toolchainLock.refreshLocks': (ctx) => ctx.refreshLocks(),
  'toolchainLock.openSettings': () => vscode.commands.executeCommand('workbench.action.openSettings', `@ext:toolchain-lock.toolchain-lock ${SECTION}`),
  /** Argument: a Locks view row; without one, every row. */
  'toolchainLock.copyDetails': (ctx, arg) => copyDetails(ctx, arg),
} satisfies Record<string, Handler>;

export type CommandId = keyof typeof COMMANDS;

export function registerCommands(ctx: Ctx): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, handler]: [string, Handler]) => vscode.commands.registerCommand(id, (...args: unknown[]) => handler(ctx, ...args)));
}

/** Opens the newest update log (of `name` when given): also one an earlier window (or one that died) left behind. */
async function openLastUpdateLog(ctx: Ctx, name?: string): Promise<void> {
  const logs = updateLogs(ctx.updateLogDir());
  const [newest] = name === undefined ? logs : logs.filter((f) => path.basename(f).startsWith(`${updateLogStem(name)}-`));
  if (!newest) {
    void vscode.window.showInformationMessage(name === undefined ? vscode.l10n.t('No update has run from VS Code yet.') : vscode.l10n.t('No update of {0} has run from VS Code yet.', name));
    return;
  }
  await vscode.window.showTextDocument(vscode.Uri.file(newest), { preview: true });
}

async function copyDetails(ctx: Ctx, arg: unknown): Promise<void> {
  const node = typeof arg === 'object' && arg !== null && 'details' in arg ? (arg as LockNode) : undefined;
  const text = node ? node.details : ctx.presentation.view.nodes().map((n) => n.details).join('\n\n');
  await vscode.env.clipboard.writeText(text);
}
