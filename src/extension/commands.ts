// Every contributed command, in one table; handlers are thin and call into the services.
import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import { installToolchain } from './install';
import { showLocks } from './locks';
import { updateLogs, updateToolchain } from './update';

type Handler = (ctx: Ctx, ...args: unknown[]) => unknown;

export const COMMANDS = {
  /** Optional argument: a toolchain name or path, to skip the quick pick. */
  'toolchainLock.updateToolchain': (ctx, name) => updateToolchain(ctx, typeof name === 'string' && name !== '' ? name : undefined),
  /** Optional argument: the name of a missing toolchain, to skip the quick pick. */
  'toolchainLock.installToolchain': (ctx, name) => installToolchain(ctx, typeof name === 'string' && name !== '' ? name : undefined),
  'toolchainLock.showLocks': (ctx) => showLocks(ctx),
  'toolchainLock.openLog': (ctx) => ctx.log.show(),
  'toolchainLock.openUpdateLog': (ctx) => openLastUpdateLog(ctx),
} satisfies Record<string, Handler>;

export type CommandId = keyof typeof COMMANDS;

export function registerCommands(ctx: Ctx): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, handler]: [string, Handler]) => vscode.commands.registerCommand(id, (...args: unknown[]) => handler(ctx, ...args)));
}

/** Opens the newest update log: also one an earlier window (or one that died) left behind. */
async function openLastUpdateLog(ctx: Ctx): Promise<void> {
  const [newest] = updateLogs(ctx.updateLogDir());
  if (!newest) {
    void vscode.window.showInformationMessage('No update has run from VS Code yet.');
    return;
  }
  await vscode.window.showTextDocument(vscode.Uri.file(newest), { preview: true });
}
