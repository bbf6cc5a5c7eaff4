// State → status bar text, tooltip and background. Pure (no `vscode`), so it is unit-tested and
// the status bar can never disagree with the state it is rendered from.
import * as path from 'node:path';
import {
  describeRole,
  describeUnlockedWriter,
  holderCommand,
  type Holder,
  type LockStatus,
  type UnlockedProcess,
} from '../lock';
import { l10n } from './l10n';
import type { ToolchainSnapshot } from './lockstate';

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
  return first ? path.basename(first) : (h.client ?? 'unknown');
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
  return pid === undefined ? program(h) : `${program(h)}, pid ${pid}`;
}

function outsideWho(t: ToolchainSnapshot): string {
  const w = t.outside?.writer;
  return w ? describeUnlockedWriter(w) : l10n.t('an unknown process');
}

function shortState(t: ToolchainSnapshot, lock: LockStatus | undefined, holders: number): string {
  if (t.outside) return `${t.toolchain.name}: changed outside Toolchain Lock (${outsideWho(t)})`;
  switch (t.state) {
    case 'holding':
      return `${t.toolchain.name} (${holders})`;
    case 'acquiring':
      return `${t.toolchain.name}: waiting`;
    case 'pending': {
      // The lock directory knows best whether the writer still waits or already writes.
      const writer = lock?.writer ?? t.writer;
      return writer
        ? `${t.toolchain.name}: ${writer.state === 'held' ? 'updating' : 'update pending'} (${whoLine(writer)})`
        : `${t.toolchain.name}: update pending`;
    }
    case 'updating':
      return `${t.toolchain.name}: updating`;
    case 'error':
      return `${t.toolchain.name}: not locked`;
    case 'idle':
      return t.toolchain.name;
  }
}

/** A toolchain's state as a sentence (tooltip, Toolchain Locks view). */
export function longState(t: ToolchainSnapshot, lock: LockStatus | undefined): string {
  const others = lock ? lock.holders.length - 1 : 0;
  if (t.outside)
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
    describeRole(h),
    md(holderCommand(h)),
    `pid ${h.pid}${h.children.length > 0 ? ` running pid ${h.children.join(', ')}` : ''}`,
    `host ${md(h.host)}`,
  ];
  if (h.since) parts.push(`since ${md(h.since)}`);
  if (h.purpose) parts.push(md(h.purpose));
  if (h.foreign) parts.push('plain flock');
  if (h.self) parts.push('**this window**');
  return `- ${parts.join(' · ')}`;
}

function updateLink(toolchainPath: string): string {
  return `[Update safely](command:toolchainLock.updateToolchain?${encodeURIComponent(JSON.stringify([toolchainPath]))})`;
}

function unlockedLine(p: UnlockedProcess): string {
  const parts = [md(p.exe ?? p.command[0] ?? 'unknown program'), `pid ${p.pid}`];
  if (p.since) parts.push(`since ${md(p.since)}`);
  if (p.user) parts.push(`user ${md(p.user)}`);
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
  if (t.outside) {
    lines.push(
      `**${l10n.t('Being changed outside Toolchain Lock by {0}', md(outsideWho(t)))}**: ${l10n.t('this window’s servers stay stopped until the writer is gone, the files are quiet and the toolchain is whole again.')}`,
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
    lines.push(`- pending writer: ${holderLine(writer).slice(2)}`);
  for (const h of lock?.waiting ?? [])
    if (h !== writer && h.mode === 'read') lines.push(holderLine(h));
  if (holders.length > 0 || writer) lines.push('');
  if (t.units.length > 0) {
    const units = t.units.map(
      (u) =>
        `${md(u.id)} (${u.failed ? `failed: ${md(u.failed)}` : u.running ? `running${u.pid ? `, pid ${u.pid}` : ''}` : 'stopped'})`,
    );
    lines.push(`Servers: ${units.join(' · ')}`, '');
  }
  lines.push(
    `${updateLink(t.toolchain.path)} · [Show locks](command:toolchainLock.showLocks) · [Open log](command:toolchainLock.openLog)`,
    '',
  );
  return lines;
}

/** Renders the whole status bar item from state. */
export function renderStatus(input: StatusInput): StatusView {
  if (input.unavailable !== null) {
    return {
      text: '$(error) Toolchain Lock: unavailable',
      tooltip: `**Toolchain Lock cannot lock in this editor**\n\n${md(input.unavailable)}\n\n[Open log](command:toolchainLock.openLog)`,
      background: 'error',
      rerenderInMs: null,
    };
  }
  const ts = [...input.toolchains].sort(
    (a, b) => a.toolchain.name.localeCompare(b.toolchain.name) || a.key.localeCompare(b.key),
  );
  const busy = ts.some(
    (t) =>
      Boolean(t.outside) ||
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
      : 'no toolchain';
  const nextLong = waiting.map((t) => t.since + BLOCKED_LONG_MS - input.now).filter((ms) => ms > 0);
  const tooltip = ['**Toolchain Lock**', ''];
  if (ts.length === 0)
    tooltip.push(
      'No language server of this window uses a known toolchain.',
      '',
      '[Update safely](command:toolchainLock.updateToolchain) · [Show locks](command:toolchainLock.showLocks) · [Open log](command:toolchainLock.openLog)',
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
