// A lock in words: localized for what the editor shows, English for the clipboard. Pure.
import {
  describeHolder,
  describeLockState,
  describeRole,
  type Holder,
  type LockState,
} from '../../lock';
import type { LockStatus } from '../../observe';
import { l10n } from '../l10n';

/** describeLockState as the editor shows it; the engine's words stay English for the CLI. */
export function lockStateWords(state: LockState): string {
  switch (state) {
    case 'free':
      return l10n.t('free');
    case 'read':
      return l10n.t('held for read');
    case 'write':
      return l10n.t('being updated');
    case 'update-pending':
      return l10n.t('update pending');
  }
}

/** describeRole as the editor shows it. */
export function roleWords(h: Pick<Holder, 'mode' | 'state'>): string {
  if (h.mode === 'write')
    return h.state === 'waiting' ? l10n.t('update pending') : l10n.t('updating');
  return h.state === 'waiting' ? l10n.t('queued reader') : l10n.t('reader');
}

/**
 * Plain-text description of one lock, for the clipboard (Copy details): English, like the log, so
 * that what is pasted into a bug report reads the same for everyone.
 */
export function describeLock(s: LockStatus): string {
  const lines = [
    `${s.toolchain?.name ?? s.key}: ${describeLockState(s.state)}`,
    `  directory: ${s.toolchain?.path ?? 'unknown'}`,
    `  lock file: ${s.lockFile}`,
  ];
  for (const h of s.holders)
    lines.push(`  ${describeRole(h)}: ${describeHolder(h)}${h.self ? ' [this window]' : ''}`);
  if (s.writer && !s.holders.includes(s.writer))
    lines.push(`  pending writer: ${describeHolder(s.writer)}`);
  for (const h of s.waiting)
    if (h !== s.writer) lines.push(`  waiting (${h.mode}): ${describeHolder(h)}`);
  for (const p of s.problems) lines.push(`  unreadable record ${p.file}: ${p.reason}`);
  return lines.join('\n');
}
