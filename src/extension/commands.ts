// Every contributed command, in one table; handlers are thin and call into the services. Where a
// command applies is said by package.json's `when` clauses over the context keys (view/contextkeys.ts),
// so the palette and the Locks view offer only what can run. A command that needs working locks
// (`needsLocking`) runs its handler only once the window can lock; until then, or where it never
// can, the one disabled handler says why, so handlers never check readiness themselves.
// Commands run from a Locks view row get the row (a LockNode) as their argument.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SECTION } from './config';
import type { Ctx } from './ctx';
import { installToolchain, showLocks, updateLogs, updateLogStem, updateToolchain } from './actions';
import { toolchainArgument, type LockNode } from './view';

type Handler = (ctx: Ctx, ...args: unknown[]) => unknown;

/** Commands that change toolchains: they need the native lock and a started coordinator. */
const NEEDS_LOCKING: ReadonlySet<string> = new Set([
  'toolchainLock.updateToolchain',
  'toolchainLock.installToolchain',
]);

export const COMMANDS = {
  /** Optional argument: a toolchain name or path (or a Locks view row), to skip the quick pick. */
  'toolchainLock.updateToolchain': (ctx, arg) =>
    updateToolchain(ctx, toolchainArgument(arg, 'path')),
  /** Optional argument: the name of a missing toolchain (or its Locks view row), to skip the quick pick. */
  'toolchainLock.installToolchain': (ctx, arg) =>
    installToolchain(ctx, toolchainArgument(arg, 'name')),
  'toolchainLock.showLocks': (ctx) => showLocks(ctx),
  'toolchainLock.openLog': (ctx) => ctx.log.show(),
  /** Optional argument: a toolchain name (or a Locks view row): its newest update log. */
  'toolchainLock.openUpdateLog': (ctx, arg) =>
    openLastUpdateLog(ctx, toolchainArgument(arg, 'name')),
  'toolchainLock.refreshLocks': (ctx) => ctx.refreshLocks(),
  'toolchainLock.openSettings': () =>
    vscode.commands.executeCommand(
      'workbench.action.openSettings',
      `@ext:toolchain-lock.toolchain-lock ${SECTION}`,
    ),
  /** Argument: a Locks view row; without one, every row. */
  'toolchainLock.copyDetails': (ctx, arg) => copyDetails(ctx, arg),
} satisfies Record<string, Handler>;

export type CommandId = keyof typeof COMMANDS;

export function registerCommands(ctx: Ctx): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, enabled]: [string, Handler]) =>
    vscode.commands.registerCommand(id, (...args: unknown[]) =>
      NEEDS_LOCKING.has(id) && !canLock(ctx) ? disabled(ctx) : enabled(ctx, ...args),
    ),
  );
}

function canLock(ctx: Ctx): boolean {
  return ctx.unavailable === null && ctx.coordinator !== undefined;
}

/** What a command that changes toolchains does where the window cannot lock (yet). */
function disabled(ctx: Ctx): false {
  if (ctx.unavailable !== null) {
    const log = vscode.l10n.t('Open log');
    void vscode.window
      .showErrorMessage(
        vscode.l10n.t(
          'Toolchain Lock cannot lock in this editor, so it will not pretend to: {0}',
          ctx.unavailable,
        ),
        log,
      )
      .then((c) => c === log && ctx.log.show());
  } else {
    void vscode.window.showWarningMessage(
      vscode.l10n.t('Toolchain Lock is still starting; try again in a moment.'),
    );
  }
  return false;
}

/** Opens the newest update log (of `name` when given): also one an earlier window (or one that died) left behind. */
async function openLastUpdateLog(ctx: Ctx, name?: string): Promise<void> {
  const logs = updateLogs(ctx.updateLogDir());
  const [newest] =
    name === undefined
      ? logs
      : logs.filter((f) => path.basename(f).startsWith(`${updateLogStem(name)}-`));
  if (!newest) {
    void vscode.window.showInformationMessage(
      name === undefined
        ? vscode.l10n.t('No update has run from VS Code yet.')
        : vscode.l10n.t('No update of {0} has run from VS Code yet.', name),
    );
    return;
  }
  await vscode.window.showTextDocument(vscode.Uri.file(newest), { preview: true });
}

async function copyDetails(ctx: Ctx, arg: unknown): Promise<void> {
  const node =
    typeof arg === 'object' && arg !== null && 'details' in arg ? (arg as LockNode) : undefined;
  const text = node
    ? node.details
    : ctx.presentation.view
        .nodes()
        .map((n) => n.details)
        .join('\n\n');
  await vscode.env.clipboard.writeText(text);
}
