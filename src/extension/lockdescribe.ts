// A lock in plain text: for the quick pick of every lock, the Locks view and the clipboard. Pure.
import { describeHolder, type LockStatus } from '../lock';

export const LOCK_STATE: Record<LockStatus['state'], string> = {
  free: 'free',
  read: 'held for read',
  write: 'being updated',
  'update-pending': 'update pending',
};

/** Plain-text description of one lock, for the quick pick and the clipboard. */
export function describeLock(s: LockStatus): string {
  const lines = [`${s.toolchain?.name ?? s.key}: ${LOCK_STATE[s.state]}`, `  directory: ${s.toolchain?.path ?? 'unknown'}`, `  lock file: ${s.lockFile}`];
  for (const h of s.holders) lines.push(`  ${h.mode === 'write' ? 'writer' : 'reader'}: ${describeHolder(h)}${h.self ? ' [this window]' : ''}`);
  if (s.writer && !s.holders.includes(s.writer)) lines.push(`  pending writer: ${describeHolder(s.writer)}`);
  for (const h of s.waiting) if (h !== s.writer) lines.push(`  waiting (${h.mode}): ${describeHolder(h)}`);
  for (const p of s.problems) lines.push(`  unreadable record ${p.file}: ${p.reason}`);
  return lines.join('\n');
}

