// State → status bar text, tooltip and background. Pure (no `vscode`), so it is unit-tested and
// the status bar can never disagree with the state it is rendered from.
import * as path from 'node:path';
import { holderCommand, type Holder } from '../../lock';
import { describeUnlockedWriter, type LockStatus, type UnlockedProcess } from '../../observe';
import { l10n } from '../l10n';
import { roleWords } from './lockdescribe';
import type { ToolchainSnapshot } from '../state';

/** The only commands the tooltip's links may run (MarkdownString.isTrusted.enabledCommands). */
export const TOOLTIP_COMMANDS = [
  'toolchainLock.updateToolchain',
  'toolchainLock.showLocks',
  'toolchainLock.openLog',
] as const;

/** Waiting longer than this needs the user's attention. */
export const BLOCKED_LONG_MS = 30_000;

export interface StatusInput {
  readonly toolchains: readonly ToolchainSnapshot[];
  /** The lock directory's view (engine `watch` onStatus), by key. */
  readonly locks: ReadonlyMap<string, LockStatus>;
  /** Programs running from the toolchains without a lock, by key (looked up now and then). */
  readonly unlocked?: ReadonlyMap<string, readonly UnlockedProcess[]>;
  /** Set when locking cannot work in this editor at all (native module). */
  readonly unavailable: string | null;
  readonly now: number;
}

export interface StatusView {
  readonly text: string;
  /** Markdown. */
  readonly tooltip: string;
  readonly background: 'none' | 'warning' | 'error';
  /** When the view changes by itself (a wait becoming "long"), in ms from now. */
  readonly rerenderInMs: number | null;
}

/** Escapes text for Markdown, so holder commands and paths cannot inject links. */
export function md(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, (c) => `\\${c}`);
}

function program(h: Holder): string {
  const first = h.command[0];
  return first ? path.basename(first) : (h.client ?? l10n.t('unknown'));
}

/**
 * The pid of the process doing the update: the child it runs once known. An editor window's
 * record carries its extension host's pid, which names no update at all, so that one is left out.
 */
export function updatePid(h: Holder): number | undefined {
  return h.children.at(-1) ?? (h.client === 'vscode' ? undefined : h.pid);
}

function whoLine(h: Holder): string {
  const pid = updatePid(h);
  return pid === undefined ? program(h) : l10n.t('{0}, pid {1}', program(h), pid);
}

function unlockedWriterWho(t: ToolchainSnapshot): string {
  const w = t.unlockedChange?.writer;
  return w ? describeUnlockedWriter(w) : l10n.t('an unknown process');
}

function shortState(t: ToolchainSnapshot, lock: LockStatus | undefined, holders: number): string {
  const name = t.toolchain.name;
  if (t.unlockedChange)
    return l10n.t('{0}: changed outside Toolchain Lock ({1})', name, unlockedWriterWho(t));
  switch (t.state) {
    case 'holding':
      return `${name} (${holders})`;
    case 'acquiring':
      return l10n.t('{0}: waiting', name);
    case 'pending': {
      // The lock directory knows best whether the writer still waits or already writes.
      const writer = lock?.writer ?? t.writer;
      if (!writer) return l10n.t('{0}: update pending', name);
      return writer.state === 'held'
        ? l10n.t('{0}: updating ({1})', name, whoLine(writer))
        : l10n.t('{0}: update pending ({1})', name, whoLine(writer));
    }
    case 'updating':
      return l10n.t('{0}: updating', name);
    case 'error':
      return l10n.t('{0}: not locked', name);
    case 'idle':
      return name;
  }
}

/** A toolchain's state as a sentence (tooltip, Toolchain Locks view). */
export function longState(t: ToolchainSnapshot, lock: LockStatus | undefined): string {
  const others = lock ? lock.holders.length - 1 : 0;
  if (t.unlockedChange)
    return l10n.t(
      'being changed outside Toolchain Lock; this window’s servers are stopped until it is over',
    );
  switch (t.state) {
    case 'holding':
      // One message per plural form: a translation never has to build a plural from parts.
      return others <= 0
        ? l10n.t('held for read by this window')
        : others === 1
          ? l10n.t('held for read by this window and 1 other holder')
          : l10n.t('held for read by this window and {0} other holders', others);
    case 'acquiring':
      return l10n.t('this window waits for the read lock');
    case 'pending':
      return l10n.t(
        'being updated by someone else; this window’s servers are stopped until it is done',
      );
    case 'updating':
      return l10n.t('being updated from this window');
    case 'error':
      return l10n.t('not locked: {0}', t.error ?? l10n.t('unknown error'));
    case 'idle':
      return l10n.t('not used by this window');
  }
}

function holderLine(h: Holder): string {
  const parts = [
    roleWords(h),
    md(holderCommand(h)),
    h.children.length > 0
      ? l10n.t('pid {0} running pid {1}', h.pid, h.children.join(', '))
      : l10n.t('pid {0}', h.pid),
    l10n.t('host {0}', md(h.host)),
  ];
  if (h.since) parts.push(l10n.t('since {0}', md(h.since)));
  if (h.purpose) parts.push(md(h.purpose));
  if (h.foreign) parts.push(l10n.t('plain flock'));
  if (h.self) parts.push(`**${l10n.t('this window')}**`);
  return `- ${parts.join(' · ')}`;
}

/** The tooltip's links; only TOOLTIP_COMMANDS run from it. */
function link(text: string, command: string): string {
  return `[${md(text)}](command:${command})`;
}

function updateLink(toolchainPath: string): string {
  return link(
    l10n.t('Update safely'),
    `toolchainLock.updateToolchain?${encodeURIComponent(JSON.stringify([toolchainPath]))}`,
  );
}

const showLocksLink = (): string => link(l10n.t('Show locks'), 'toolchainLock.showLocks');
const openLogLink = (): string => link(l10n.t('Open log'), 'toolchainLock.openLog');

function unlockedLine(p: UnlockedProcess): string {
  const parts = [md(p.exe ?? p.command[0] ?? l10n.t('unknown program')), l10n.t('pid {0}', p.pid)];
  if (p.since) parts.push(l10n.t('since {0}', md(p.since)));
  if (p.user) parts.push(l10n.t('user {0}', md(p.user)));
  return `- ${parts.join(' · ')}`;
}

function section(
  t: ToolchainSnapshot,
  lock: LockStatus | undefined,
  unlocked: readonly UnlockedProcess[],
): string[] {
  const lines = [
    `**${md(t.toolchain.name)}** — ${md(longState(t, lock))}`,
    '',
    md(t.toolchain.path),
    '',
  ];
  if (t.unlockedChange) {
    lines.push(
      `**${l10n.t('Being changed outside Toolchain Lock by {0}', md(unlockedWriterWho(t)))}**: ${l10n.t('this window’s servers stay stopped until the writer is gone, the files are quiet and the toolchain is whole again.')}`,
      '',
    );
  }
  if (unlocked.length > 0) {
    lines.push(
      l10n.t('Running from it without a lock (an update would replace files under them):'),
    );
    for (const p of unlocked) lines.push(unlockedLine(p));
    lines.push('');
  }
  const holders = lock?.holders ?? [];
  for (const h of holders) lines.push(holderLine(h));
  const writer = lock?.writer ?? t.writer;
  if (writer && !holders.includes(writer))
    lines.push(`- ${l10n.t('pending writer: {0}', holderLine(writer).slice(2))}`);
  for (const h of lock?.waiting ?? [])
    if (h !== writer && h.mode === 'read') lines.push(holderLine(h));
  if (holders.length > 0 || writer) lines.push('');
  if (t.units.length > 0) {
    const units = t.units.map(
      (u) =>
        `${md(u.id)} (${u.failed ? l10n.t('failed: {0}', md(u.failed)) : u.running ? (u.pid ? l10n.t('running, pid {0}', u.pid) : l10n.t('running')) : l10n.t('stopped')})`,
    );
    lines.push(l10n.t('Servers: {0}', units.join(' · ')), '');
  }
  lines.push(`${updateLink(t.toolchain.path)} · ${showLocksLink()} · ${openLogLink()}`, '');
  return lines;
}

/** Renders the whole status bar item from state. */
export function renderStatus(input: StatusInput): StatusView {
  if (input.unavailable !== null) {
    return {
      text: `$(error) ${l10n.t('Toolchain Lock: unavailable')}`,
      tooltip: `**${l10n.t('Toolchain Lock cannot lock in this editor')}**\n\n${md(input.unavailable)}\n\n${openLogLink()}`,
      background: 'error',
      rerenderInMs: null,
    };
  }
  const ts = [...input.toolchains].sort(
    (a, b) => a.toolchain.name.localeCompare(b.toolchain.name) || a.key.localeCompare(b.key),
  );
  const busy = ts.some(
    (t) =>
      Boolean(t.unlockedChange) ||
      t.state === 'pending' ||
      t.state === 'updating' ||
      (t.state === 'acquiring' && t.blockers.length > 0),
  );
  const waiting = ts.filter(
    (t) => t.state === 'acquiring' || t.state === 'pending' || t.state === 'updating',
  );
  const longWait = waiting.some((t) => input.now - t.since >= BLOCKED_LONG_MS);
  const failed = ts.some((t) => t.state === 'error' || t.units.some((u) => u.failed));
  const holderCount = (t: ToolchainSnapshot): number =>
    input.locks.get(t.key)?.holders.length ?? (t.state === 'holding' ? 1 : 0);
  const names =
    ts.length > 0
      ? ts.map((t) => shortState(t, input.locks.get(t.key), holderCount(t))).join(', ')
      : l10n.t('no toolchain');
  const nextLong = waiting.map((t) => t.since + BLOCKED_LONG_MS - input.now).filter((ms) => ms > 0);
  const tooltip = ['**Toolchain Lock**', ''];
  if (ts.length === 0)
    tooltip.push(
      l10n.t('No language server of this window uses a known toolchain.'),
      '',
      `${link(l10n.t('Update safely'), 'toolchainLock.updateToolchain')} · ${showLocksLink()} · ${openLogLink()}`,
    );
  for (const t of ts)
    tooltip.push(...section(t, input.locks.get(t.key), input.unlocked?.get(t.key) ?? []));
  return {
    text: `${busy ? '$(sync~spin)' : failed ? '$(warning)' : '$(lock)'} ${names}`,
    tooltip: tooltip.join('\n').trimEnd(),
    background: failed || longWait ? 'warning' : 'none',
    rerenderInMs: nextLong.length > 0 ? Math.min(...nextLong) : null,
  };
}
