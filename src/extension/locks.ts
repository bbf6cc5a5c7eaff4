// "Toolchain Lock: Show who holds which lock": every lock in the lock directory, its holders and
// the pending writer; picking one offers what can be done about it.
import * as vscode from 'vscode';
import { describeHolder, describeLockState, describeRole, message, status, type LockStatus } from '../lock';
import type { Ctx } from './ctx';
import { updateToolchain } from './update';

/** Plain-text description of one lock, for the quick pick and the clipboard. */
export function describeLock(s: LockStatus): string {
  const lines = [`${s.toolchain?.name ?? s.key}: ${describeLockState(s.state)}`, `  directory: ${s.toolchain?.path ?? 'unknown'}`, `  lock file: ${s.lockFile}`];
  for (const h of s.holders) lines.push(`  ${describeRole(h)}: ${describeHolder(h)}${h.self ? ' [this window]' : ''}`);
  if (s.writer && !s.holders.includes(s.writer)) lines.push(`  pending writer: ${describeHolder(s.writer)}`);
  for (const h of s.waiting) if (h !== s.writer) lines.push(`  waiting (${h.mode}): ${describeHolder(h)}`);
  for (const p of s.problems) lines.push(`  unreadable record ${p.file}: ${p.reason}`);
  return lines.join('\n');
}

export async function showLocks(ctx: Ctx): Promise<void> {
  let locks: LockStatus[];
  try {
    locks = status({ lockDir: ctx.lockDir() });
  } catch (err) {
    void vscode.window.showErrorMessage(`Cannot read the lock directory ${ctx.lockDir()}: ${message(err)}`);
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
      description: `${describeLockState(s.state)}${s.holders.length > 0 ? ` · ${s.holders.length} holder${s.holders.length > 1 ? 's' : ''}` : ''}`,
      detail: who.map((h) => `${describeRole(h)}: ${describeHolder(h)}${h.self ? ' (this window)' : ''}`).join(' | ') || s.toolchain?.path,
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
