// A lock in plain text: for the quick pick of every lock, the Locks view and the clipboard. Pure.
import { describeHolder, describeLockState, describeRole, type LockStatus } from '../lock';

/** Plain-text description of one lock, for the quick pick and the clipboard. */
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
