// Every contributed command, in one table; handlers are thin and call into the services.
import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import { showLocks } from './locks';
import { updateToolchain } from './update';

type Handler = (ctx: Ctx, ...args: unknown[]) => unknown;

export const COMMANDS = {
  /** Optional argument: a toolchain name or path, to skip the quick pick. */
  'toolchainLock.updateToolchain': (ctx, name) => updateToolchain(ctx, typeof name === 'string' && name !== '' ? name : undefined),
  'toolchainLock.showLocks': (ctx) => showLocks(ctx),
  'toolchainLock.openLog': (ctx) => ctx.log.show(),
} satisfies Record<string, Handler>;

export type CommandId = keyof typeof COMMANDS;

export function registerCommands(ctx: Ctx): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, handler]: [string, Handler]) => vscode.commands.registerCommand(id, (...args: unknown[]) => handler(ctx, ...args)));
}
