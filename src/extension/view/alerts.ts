// The notifications for what went wrong or was undone behind the user's back: a problem (once per
// text, always in the log), a server stopped by the settings or by an update, a server that failed,
// a toolchain that cannot be locked, an editor that cannot lock at all. Step-aside, unlocked changes
// and install offers have their own modules (stepaside.ts, unlocked-changes.ts, ../actions/install.ts).
import * as vscode from 'vscode';
import { holderCommand, isLockError, message, toolchainKey, type Toolchain } from '../../lock';
import { SECTION } from '../config';
import type { Ctx } from '../ctx';
import { bilingual, type Bilingual } from '../l10n';
import type { StoppedUnlocked } from '../state';
import { updatePid } from './render';

export class Alerts {
  /** Problems and undone restarts already shown: each is said once per window, however often it recurs. */
  private readonly shown = new Set<string>();

  constructor(private readonly ctx: Ctx) {}

  /** Locking cannot work in this editor at all (the native module): said once, at start. */
  unavailable(why: string): void {
    this.ctx.log.error(why);
    const log = vscode.l10n.t('Open log');
    void vscode.window
      .showErrorMessage(
        vscode.l10n.t('Toolchain Lock cannot lock toolchains in this editor: {0}', why),
        log,
      )
      .then((c) => c === log && this.ctx.log.show());
  }

  /**
   * Always logged, in English; shown once per text. The lock engine's warnings come in English
   * only; our own problems come translated too.
   */
  problem(problem: string | Bilingual): void {
    const { english: text, shown } =
      typeof problem === 'string' ? { english: problem, shown: problem } : problem;
    this.ctx.log.warn(text);
    if (this.shown.has(text)) return;
    this.shown.add(text);
    const log = vscode.l10n.t('Open log');
    void vscode.window
      .showWarningMessage(vscode.l10n.t('Toolchain Lock: {0}', shown), log)
      .then((c) => c === log && this.ctx.log.show());
  }

  /** A server stopped because of the settings is never a silent surprise. */
  dropped(ids: readonly string[]): void {
    const listed = new Set(this.ctx.config.servers.map((s) => s.id));
    const trusted = vscode.workspace.isTrusted;
    const text = bilingual((l10n) => {
      const why = ids
        .map((id) =>
          listed.has(id)
            ? l10n.t('{0}: its entry in toolchainLock.servers no longer resolves (see the log)', id)
            : l10n.t('{0}: toolchainLock.servers no longer lists it', id),
        )
        .join('; ');
      return trusted
        ? l10n.t('Toolchain Lock stopped {0}.', why)
        : l10n.t(
            'Toolchain Lock stopped {0}. In an untrusted workspace only user settings count.',
            why,
          );
    });
    this.ctx.log.warn(text.english);
    const [settings, log] = [vscode.l10n.t('Open Settings'), vscode.l10n.t('Open log')];
    void vscode.window.showWarningMessage(text.shown, settings, log).then((choice) => {
      if (choice === settings)
        vscode.commands
          .executeCommand('workbench.action.openSettings', `${SECTION}.servers`)
          .then(undefined, () => this.ctx.log.show());
      if (choice === log) this.ctx.log.show();
    });
  }

  /** Once per server and update: a restart of theirs during an update is undone, never silently. */
  stoppedUnlocked(info: StoppedUnlocked): void {
    const w = info.writer;
    const pid = w ? updatePid(w) : undefined;
    const key = `${info.unitId} ${toolchainKey(info.toolchain.path)} ${w ? `${w.pid} ${w.since ?? ''}` : 'waiting'}`;
    if (this.shown.has(key)) return;
    this.shown.add(key);
    const [unit, toolchain] = [info.unitId, info.toolchain.name];
    const text = !w
      ? vscode.l10n.t(
          '{0} was started while toolchain {1} is being updated; Toolchain Lock stopped it again. It starts when the update finishes.',
          unit,
          toolchain,
        )
      : pid === undefined
        ? vscode.l10n.t(
            '{0} was started while toolchain {1} is being updated by “{2}”; Toolchain Lock stopped it again. It starts when the update finishes.',
            unit,
            toolchain,
            holderCommand(w),
          )
        : vscode.l10n.t(
            '{0} was started while toolchain {1} is being updated by “{2}” (pid {3}); Toolchain Lock stopped it again. It starts when the update finishes.',
            unit,
            toolchain,
            holderCommand(w),
            pid,
          );
    const log = vscode.l10n.t('Open log');
    void vscode.window.showWarningMessage(text, log).then((c) => c === log && this.ctx.log.show());
  }

  unitFailure(id: string, why: string): void {
    const { ctx } = this;
    const toolchains = (ctx.coordinator?.snapshot() ?? []).filter((t) =>
      t.units.some((u) => u.id === id),
    );
    // A server failing for want of its toolchain: the install offer says it, with the remedy.
    if (toolchains.some((t) => ctx.installs.covers(t.key))) {
      ctx.installs.offer();
      return;
    }
    const unit = toolchains[0];
    const text = unit
      ? vscode.l10n.t('{0} is not running on toolchain {1}: {2}', id, unit.toolchain.name, why)
      : vscode.l10n.t('{0} is not running: {1}', id, why);
    const [log, retry] = [vscode.l10n.t('Open log'), vscode.l10n.t('Retry')];
    void vscode.window.showErrorMessage(text, log, retry).then((choice) => {
      if (choice === log) ctx.log.show();
      if (choice === retry) void ctx.coordinator?.retry(id);
    });
  }

  lockError(t: Toolchain, err: unknown): void {
    if (isLockError(err, 'E_NATIVE_MODULE')) return; // said once at start
    this.problem(
      bilingual((l10n) =>
        l10n.t('cannot lock {0}; its servers run unprotected: {1}', t.name, message(err)),
      ),
    );
  }
}
