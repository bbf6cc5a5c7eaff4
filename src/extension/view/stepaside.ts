// What a window says when someone else's update stops its servers: the status bar and the Locks
// view show it always; a notification only when a running server was stopped, unless the user
// said "Don't show again" (toolchainLock.notifications.serverStopped).
import * as vscode from 'vscode';
import { holderCommand } from '../../lock';
import { SECTION } from '../config';
import type { StepAside } from '../state';
import { LOCKS_VIEW } from './locksview';
import { updatePid } from './render';

export const SERVER_STOPPED_SETTING = 'notifications.serverStopped';

/** The notification's text: the toolchain, the update and its pid, the servers that wait for it. */
export function stepAsideText(info: StepAside, restartOnly: readonly string[] = []): string {
  const w = info.writer;
  const pid = updatePid(w);
  const [name, by, units] = [info.toolchain.name, holderCommand(w), info.units.join(', ')];
  const text =
    pid !== undefined
      ? vscode.l10n.t(
          'Toolchain {0} is being updated by “{1}” (pid {2}); {3} will restart when it finishes',
          name,
          by,
          pid,
          units,
        )
      : w.purpose
        ? vscode.l10n.t(
            'Toolchain {0} is being updated by “{1}” ({2}); {3} will restart when it finishes',
            name,
            by,
            w.purpose,
            units,
          )
        : vscode.l10n.t(
            'Toolchain {0} is being updated by “{1}”; {2} will restart when it finishes',
            name,
            by,
            units,
          );
  const kept = info.units.filter((u) => restartOnly.includes(u));
  if (kept.length === 0) return text;
  // Said plainly: these servers were not stopped, only their extensions can restart them. The
  // joiner is a message too: not every language ends a sentence with ". ".
  return vscode.l10n.t(
    '{0}. {1}',
    text,
    vscode.l10n.t(
      '{0} keeps running during the update: its extension can only restart it',
      kept.join(', '),
    ),
  );
}

/** `restartOnly`: ids of the servers among info.units that keep running (restart-only). */
export function announceStepAside(
  info: StepAside,
  enabled: boolean,
  log: vscode.LogOutputChannel,
  restartOnly: readonly string[] = [],
): void {
  if (info.units.length === 0 || !enabled) return;
  const show = vscode.l10n.t('Show Locks');
  const never = vscode.l10n.t('Don’t Show Again');
  void vscode.window
    .showInformationMessage(stepAsideText(info, restartOnly), show, never)
    .then((choice) => {
      if (choice === show)
        void vscode.commands
          .executeCommand(`${LOCKS_VIEW}.focus`)
          .then(undefined, (err: unknown) =>
            log.warn(`cannot show the Locks view: ${String(err)}`),
          );
      if (choice === never) {
        void vscode.workspace
          .getConfiguration(SECTION)
          .update(SERVER_STOPPED_SETTING, false, vscode.ConfigurationTarget.Global)
          .then(undefined, (err: unknown) =>
            log.warn(`cannot turn off ${SECTION}.${SERVER_STOPPED_SETTING}: ${String(err)}`),
          );
      }
    });
}
