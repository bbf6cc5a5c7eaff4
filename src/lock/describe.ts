import type { Holder, LockState } from './lock-state';

const STATE_WORDS: Readonly<Record<LockState, string>> = {
  free: 'free',
  read: 'held for read',
  write: 'being updated',
  'update-pending': 'update pending',
};

/** How a lock's state is said to people (CLI, quick picks, status bar). */
export function describeLockState(state: LockState): string {
  return STATE_WORDS[state];
}

/** What a party does to the lock, in a word or two: reader, queued reader, updating, update pending. */
export function describeRole(h: Pick<Holder, 'mode' | 'state'>): string {
  if (h.mode === 'write') return h.state === 'waiting' ? 'update pending' : 'updating';
  return h.state === 'waiting' ? 'queued reader' : 'reader';
}

const MAX_COMMAND = 80;

/**
 * The program and arguments of a holder, shortened for one line so that what it runs stays
 * readable: the program's directory goes first (`node`, not `/home/u/.nvm/…/bin/node`), then the
 * directories of long path arguments (`…/demo-update.mjs`), and only then the end of the line.
 */
export function holderCommand(h: Holder): string {
  if (h.command.length === 0) return h.foreign ? '(unknown program)' : (h.client ?? 'unknown');
  const [program, ...args] = h.command as [string, ...string[]];
  const candidates = [
    h.command.join(' '),
    [baseName(program), ...args].join(' '),
    [
      baseName(program),
      ...args.map((a) => (a.length > 24 && /[\\/]/.test(a) ? `…/${baseName(a)}` : a)),
    ].join(' '),
  ];
  const text =
    candidates.find((c) => c.length <= MAX_COMMAND) ?? candidates[candidates.length - 1]!;
  return text.length > MAX_COMMAND ? `${text.slice(0, MAX_COMMAND - 1)}…` : text;
}

function baseName(file: string): string {
  return file.replace(/[\\/]+$/, '').replace(/^.*[\\/]/, '') || file;
}

/** One line naming a holder: what it runs, pid, host, since. */
export function describeHolder(h: Holder): string {
  const parts = [`pid ${h.pid}`, `host ${h.host}`];
  if (h.children.length > 0) parts.push(`running pid ${h.children.join(', ')}`);
  if (h.since) parts.push(`since ${h.since}`);
  if (h.foreign) parts.push('plain flock, no record');
  if (h.liveness === 'unknown') parts.push('liveness unknown');
  const purpose = h.purpose ? ` [${h.purpose}]` : '';
  return `${holderCommand(h)}${purpose} (${parts.join(', ')})`;
}

/** A list of holders for a message, or "nobody we can name". */
export function describeHolders(holders: readonly Holder[]): string {
  return holders.length > 0
    ? holders.map(describeHolder).join('; ')
    : 'a holder we cannot name (another host or PID namespace?)';
}
