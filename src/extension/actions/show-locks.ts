// "Toolchain Lock: Show who holds which lock": every lock in the lock directory, its holders and
// the pending writer; picking one offers what can be done about it.
import * as vscode from 'vscode';
import { describeHolder, message, type Holder } from '../../lock';
import { status, type LockStatus } from '../../observe';
import type { Ctx } from '../ctx';

import { describeLock, lockStateWords, roleWords } from '../view';

export { describeLock };

export async function showLocks(ctx: Ctx): Promise<void> {
  let locks: LockStatus[];
  try {
    locks = status({ lockDir: ctx.lockDir() });
  } catch (err) {
    void vscode.window.showErrorMessage(
      vscode.l10n.t('Cannot read the lock directory {0}: {1}', ctx.lockDir(), message(err)),
    );
    return;
  }
  if (locks.length === 0) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t('No toolchain has been locked yet (lock directory {0}).', ctx.lockDir()),
    );
    return;
  }
  const items = locks.map((s) => {
    const who = [...s.holders, ...(s.writer && !s.holders.includes(s.writer) ? [s.writer] : [])];
    return {
      label: `${s.state === 'free' ? '$(unlock)' : s.state === 'read' ? '$(lock)' : '$(sync)'} ${s.toolchain?.name ?? s.key}`,
      description: `${lockStateWords(s.state)}${s.holders.length === 0 ? '' : ` · ${s.holders.length === 1 ? vscode.l10n.t('1 holder') : vscode.l10n.t('{0} holders', s.holders.length)}`}`,
      detail: who.map(whoLine).join(' | ') || s.toolchain?.path,
      lock: s,
    };
  });
  const picked = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('Locks in {0}', ctx.lockDir()),
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (!picked) return;
  const s = picked.lock;
  const [update, copy, log] = [
    vscode.l10n.t('Update safely'),
    vscode.l10n.t('Copy details'),
    vscode.l10n.t('Open log'),
  ];
  const actions = [...(s.toolchain ? [update] : []), copy, log];
  const action = await vscode.window.showQuickPick(actions, {
    title: s.toolchain?.name ?? s.key,
    placeHolder: `${s.toolchain?.name ?? s.key}: ${lockStateWords(s.state)}`,
  });
  // Through the command: it runs only where the window can lock, and says why not elsewhere.
  if (action === update && s.toolchain)
    await vscode.commands.executeCommand('toolchainLock.updateToolchain', s.toolchain.path);
  if (action === copy) await vscode.env.clipboard.writeText(describeLock(s));
  if (action === log) ctx.log.show();
}

/** A holder in a quick pick's detail line; the holder's own record (describeHolder) stays as written. */
function whoLine(h: Holder): string {
  return h.self
    ? vscode.l10n.t('{0}: {1} (this window)', roleWords(h), describeHolder(h))
    : `${roleWords(h)}: ${describeHolder(h)}`;
}
