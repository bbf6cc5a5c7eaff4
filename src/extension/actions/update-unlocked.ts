// Holding the write locks, before an update's command runs: programs running from the toolchains
// without a lock are named, waited for, and the update goes on or stops as the user chose
// (toolchainLock.unlockedProcesses / unlockedTimeout; the CLI's --unlocked).
import * as vscode from 'vscode';
import { LockError } from '../../lock';
import { describeUnlocked, waitForUnlocked, type UnlockedReport } from '../../observe';
import type { ResolvedToolchain } from '../../toolchains';
import type { Ctx } from '../ctx';

function unlockedList(reports: readonly UnlockedReport[]): string {
  return reports
    .map((r) => `${r.toolchain.name}: ${r.processes.map(describeUnlocked).join('; ')}`)
    .join('; ');
}

/**
 * Names them in the progress and the output, waits up to the configured time, and throws
 * E_UNLOCKED_PROCESSES when the update must not start (the command is then not run).
 */
export async function checkUnlocked(
  ctx: Ctx,
  toolchains: readonly ResolvedToolchain[],
  io: { abort: AbortSignal; report(message: string): void; out: vscode.OutputChannel },
): Promise<void> {
  const policy = ctx.config.unlockedProcesses;
  const timeoutMs = policy === 'fail' ? 0 : ctx.config.unlockedTimeoutMs;
  let named = false;
  const left = await waitForUnlocked(toolchains, {
    lockDir: ctx.lockDir(),
    timeoutMs,
    signal: io.abort,
    onProcesses(reports) {
      const list = unlockedList(reports);
      const seconds = Math.round(timeoutMs / 1000);
      io.report(
        timeoutMs > 0
          ? vscode.l10n.t(
              'running without a lock: {0}; waiting up to {1} s for them to exit',
              list,
              seconds,
            )
          : vscode.l10n.t('running without a lock: {0}', list),
      );
      io.out.appendLine(
        timeoutMs > 0
          ? named
            ? vscode.l10n.t(
                'Still running from the toolchain without a lock: {0}; waiting up to {1} s for them to exit',
                list,
                seconds,
              )
            : vscode.l10n.t(
                'Running from the toolchain without a lock: {0}; waiting up to {1} s for them to exit',
                list,
                seconds,
              )
          : vscode.l10n.t('Running from the toolchain without a lock: {0}', list),
      );
      ctx.log.info(`update: running without a lock: ${list}`);
      named = true;
    },
  });
  if (left.length === 0) {
    if (named) io.out.appendLine(vscode.l10n.t('They have exited; the update starts.'));
    return;
  }
  if (policy === 'proceed') {
    io.out.appendLine(
      vscode.l10n.t(
        'Updating anyway (toolchainLock.unlockedProcesses is "proceed"): they may fail while their files are replaced.',
      ),
    );
    return;
  }
  throw new LockError(
    'E_UNLOCKED_PROCESSES',
    vscode.l10n.t(
      'Not updating: programs run from the toolchain without a lock and would have files replaced under them: {0}. Stop them and try again, or set toolchainLock.unlockedProcesses to "proceed".',
      unlockedList(left),
    ),
  );
}
