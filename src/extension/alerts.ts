// The notifications for what went wrong or was undone behind the user's back: a problem (once per
// text, always in the log), a server stopped by the settings or by an update, a server that failed,
// a toolchain that cannot be locked, an editor that cannot lock at all. Step-aside, outside changes
// and install offers have their own modules (stepaside.ts, outside.ts, install.ts).
import * as vscode from 'vscode';
import { holderCommand, isLockError, message, toolchainKey, type Toolchain } from '../lock';
import { SECTION } from './config';
import type { Ctx } from './ctx';
import type { StoppedUnlocked } from './lockstate';
import { updatePid } from './render';

export class Alerts {
  /** Problems and undone restarts already shown: each is said once per window, however often it recurs. */
  private readonly shown = new Set<string>();

  constructor(private readonly ctx: Ctx) {}

  /** Locking cannot work in this editor at all (the native module): said once, at start. */
  unavailable(why: string): void {
    this.ctx.log.error(why);
    void vscode.window
      .showErrorMessage(`Toolchain Lock cannot lock toolchains in this editor: ${why}`, 'Open log')
      .then((c) => c && this.ctx.log.show());
  }

  /** Always logged; shown once per text. */
  problem(text: string): void {
    this.ctx.log.warn(text);
    if (this.shown.has(text)) return;
    this.shown.add(text);
    void vscode.window
      .showWarningMessage(`Toolchain Lock: ${text}`, 'Open log')
      .then((c) => c && this.ctx.log.show());
  }

  /** A server stopped because of the settings is never a silent surprise. */
  dropped(ids: readonly string[]): void {
    const listed = new Set(this.ctx.config.servers.map((s) => s.id));
    const why = ids.map((id) =>
      listed.has(id)
        ? `${id}: its entry in toolchainLock.servers no longer resolves (see the log)`
        : `${id}: toolchainLock.servers no longer lists it`,
    );
    const trust = vscode.workspace.isTrusted
      ? ''
      : ' In an untrusted workspace only user settings count.';
    const text = `Toolchain Lock stopped ${why.join('; ')}.${trust}`;
    this.ctx.log.warn(text);
    void vscode.window.showWarningMessage(text, 'Open Settings', 'Open log').then((choice) => {
      if (choice === 'Open Settings')
        vscode.commands
          .executeCommand('workbench.action.openSettings', `${SECTION}.servers`)
          .then(undefined, () => this.ctx.log.show());
      if (choice === 'Open log') this.ctx.log.show();
    });
  }

  /** Once per server and update: a restart of theirs during an update is undone, never silently. */
  stoppedUnlocked(info: StoppedUnlocked): void {
    const w = info.writer;
    const pid = w ? updatePid(w) : undefined;
    const key = `${info.unitId} ${toolchainKey(info.toolchain.path)} ${w ? `${w.pid} ${w.since ?? ''}` : 'waiting'}`;
    if (this.shown.has(key)) return;
    this.shown.add(key);
    const by = w ? ` by “${holderCommand(w)}”${pid !== undefined ? ` (pid ${pid})` : ''}` : '';
    const text = `${info.unitId} was started while toolchain ${info.toolchain.name} is being updated${by}; Toolchain Lock stopped it again. It starts when the update finishes.`;
    void vscode.window.showWarningMessage(text, 'Open log').then((c) => c && this.ctx.log.show());
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
    const on = unit ? ` on toolchain ${unit.toolchain.name}` : '';
    void vscode.window
      .showErrorMessage(`${id} is not running${on}: ${why}`, 'Open log', 'Retry')
      .then((choice) => {
        if (choice === 'Open log') ctx.log.show();
        if (choice === 'Retry') void ctx.coordinator?.retry(id);
      });
  }

  lockError(t: Toolchain, err: unknown): void {
    if (isLockError(err, 'E_NATIVE_MODULE')) return; // said once at start
    this.problem(`cannot lock ${t.name}; its servers run unprotected: ${message(err)}`);
  }
}
