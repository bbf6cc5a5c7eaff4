// "Toolchain Lock: Show who holds which lock": every lock in the lock directory, its holders and
// the pending writer; picking one offers what can be done about it.
import * as vscode from 'vscode';
import { describeHolder, status, type LockStatus } from '../lock';
import { describeLock, LOCK_STATE as STATE } from './lockdescribe';
import type { Ctx } from './ctx';
import { updateToolchain } from './update';

export { describeLock } from './lockdescribe';

export async function showLocks(ctx: Ctx): Promise<void> {
  let locks: LockStatus[];
  try {
    locks = status({ lockDir: ctx.lockDir() });
  } catch (err) {
    void vscode.window.showErrorMessage(`Cannot read the lock directory ${ctx.lockDir()}: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  if (locks.length === 0) {
    void vscode.window.showInformationMessage(`No toolchain has been locked yet (lock directory ${ctx.lockDir()}).`);
    return;
  }
  const items = locks.map((s) => {
    const who = [...s.holders, ...(s.writer && !s.holders.includes(s.writer) ? [s.writer] : [])];
    return {
      label: `${s.state === 'free' ? '$(unlock)' : s.state === 'read' ? '$(lock)' : '$(sync)'} ${s.toolchain?.name ?? s.key}`,
      description: `${STATE[s.state]}${s.holders.length > 0 ? ` · ${s.holders.length} holder${s.holders.length > 1 ? 's' : ''}` : ''}`,
      detail: who.map((h) => `${h.mode === 'write' ? (h.state === 'held' ? 'writing' : 'wants to write') : 'read'}: ${describeHolder(h)}${h.self ? ' (this window)' : ''}`).join(' | ') || s.toolchain?.path,
      lock: s,
    };
  });
  const picked = await vscode.window.showQuickPick(items, { title: `Locks in ${ctx.lockDir()}`, matchOnDescription: true, matchOnDetail: true });
  if (!picked) return;
  const s = picked.lock;
  const actions = [...(s.toolchain ? ['Update safely'] : []), 'Copy details', 'Open log'];
  const action = await vscode.window.showQuickPick(actions, { title: s.toolchain?.name ?? s.key, placeHolder: describeLock(s).split('\n')[0] });
  if (action === 'Update safely' && s.toolchain) await updateToolchain(ctx, s.toolchain.path);
  if (action === 'Copy details') await vscode.env.clipboard.writeText(describeLock(s));
  if (action === 'Open log') ctx.log.show();
}
