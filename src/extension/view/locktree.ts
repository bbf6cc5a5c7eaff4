// State → the nodes of the Toolchain Locks view. Pure (no `vscode`), fed the same input as the
// status bar (render.ts), so the view and the status bar can never disagree.
//
// A toolchain's children come from CHILD_KINDS, one small function per kind of row (holders, the
// writer, waiting updates, this window's servers, programs running without a lock). A new kind of
// row is one more function there.
import * as path from 'node:path';
import { describeHolder, holderCommand, type Holder } from '../../lock';
import { describeUnlocked, type LockStatus } from '../../observe';
import { l10n } from '../l10n';
import type { ToolchainSnapshot } from '../state';
import { describeLock } from './lockdescribe';
import { longState, updatePid, type StatusInput } from './render';

/** Words in a node's contextValue, matched by the `when` clauses of package.json's view menus. */
export type NodeContext =
  | 'toolchain'
  | 'holder'
  | 'writer'
  | 'server'
  | 'unlocked'
  | 'missing'
  | 'updatable'
  | 'updateLog'
  | 'unavailable';

export interface LockNode {
  /** Stable across renders, so the tree keeps what the user expanded. */
  readonly id: string;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  /** A codicon id (`lock`, `sync~spin`, …). */
  readonly icon: string;
  readonly context: readonly NodeContext[];
  /** What **Copy details** puts on the clipboard: English, like the log (l10n.ts). */
  readonly details: string;
  /** The toolchain the row belongs to (argument of Update safely, Install, Open output). */
  readonly toolchain?: { readonly name: string; readonly path: string };
  readonly children: readonly LockNode[];
}

/** Everything the view shows; the status bar's input plus what only the view lists. */
export interface TreeInput extends StatusInput {
  /** Toolchains this window's servers need that are not installed. */
  readonly missing: readonly {
    readonly name: string;
    readonly path: string;
    readonly why: string;
  }[];
  /** Keys of toolchains that have an update command (Update safely applies). */
  readonly updatable: ReadonlySet<string>;
  /** Names of toolchains with an update log from this or an earlier window. */
  readonly withUpdateLog: ReadonlySet<string>;
}

/** "12:03:04" in local time, or the text as it is when it does not parse. */
function clock(iso: string | null): string | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString();
}

/** Which party holds: this window, another editor window (named), the CLI, plain flock, or a tool. */
export function holderParty(h: Holder): string {
  if (h.self) return l10n.t('this window');
  if (h.foreign) return l10n.t('plain flock');
  if (h.client === 'vscode') return l10n.t('window {0}', h.command[1] ?? h.command[0] ?? '').trim();
  if (h.client === 'cli') return l10n.t('terminal or script (toolchain-lock)');
  return h.client ?? l10n.t('unknown');
}

function programOf(h: Holder): string {
  if (h.client === 'vscode') return h.command[0] ?? l10n.t('editor window');
  const first = h.command[0];
  return first ? path.basename(first) : (h.client ?? l10n.t('unknown'));
}

function holderNode(parent: string, h: Holder, role: 'holder' | 'writer'): LockNode {
  const pid = role === 'writer' ? (updatePid(h) ?? h.pid) : h.pid;
  const since = clock(h.since);
  const what =
    role === 'writer'
      ? h.state === 'held'
        ? l10n.t('updating')
        : l10n.t('update waiting')
      : h.state === 'held'
        ? l10n.t('reading')
        : l10n.t('waiting to read');
  const description = [
    what,
    l10n.t('pid {0}', pid),
    since ? l10n.t('since {0}', since) : '',
    holderParty(h),
  ]
    .filter(Boolean)
    .join(' · ');
  return {
    id: `${parent}/${role}/${h.host}/${h.pid}/${h.since ?? ''}`,
    label: programOf(h),
    description,
    tooltip: [holderCommand(h), describeHolder(h), h.purpose ?? ''].filter(Boolean).join('\n'),
    icon:
      role === 'writer'
        ? h.state === 'held'
          ? 'sync~spin'
          : 'watch'
        : h.state === 'held'
          ? 'lock'
          : 'watch',
    context: [role],
    details: `${role === 'writer' ? 'writer' : 'reader'}: ${describeHolder(h)}${h.self ? ' [this window]' : ''}`,
    children: [],
  };
}

/** One kind of row under a toolchain. */
type ChildKind = (t: ToolchainSnapshot, lock: LockStatus | undefined, id: string) => LockNode[];

/** Readers holding the lock (the writer is its own row). */
const holders: ChildKind = (_t, lock, id) =>
  (lock?.holders ?? []).filter((h) => h.mode === 'read').map((h) => holderNode(id, h, 'holder'));

/** The update writing, or the one this window stepped aside for. */
const writer: ChildKind = (t, lock, id) => {
  const w = lock?.writer ?? lock?.holders.find((h) => h.mode === 'write') ?? t.writer;
  return w ? [holderNode(id, w, 'writer')] : [];
};

/** Updates queued behind the writer, and readers waiting for it to finish. */
const waiting: ChildKind = (t, lock, id) => {
  const w = lock?.writer ?? t.writer;
  return (lock?.waiting ?? [])
    .filter((h) => h !== w && !(w && h.pid === w.pid && h.host === w.host))
    .map((h) => holderNode(id, h, h.mode === 'write' ? 'writer' : 'holder'));
};

/** This window's language servers on the toolchain. */
const servers: ChildKind = (t, _lock, id) =>
  t.units.map((u) => ({
    id: `${id}/server/${u.id}`,
    label: u.id,
    description: u.failed
      ? l10n.t('failed: {0}', u.failed)
      : u.restartOnly
        ? u.running
          ? l10n.t('running · restart only: keeps running during updates')
          : l10n.t('keeps running during the update; restarted after it')
        : u.running
          ? u.pid
            ? l10n.t('running · pid {0}', u.pid)
            : l10n.t('running')
          : l10n.t('stopped'),
    tooltip: u.owned
      ? l10n.t('{0}: started by Toolchain Lock', u.id)
      : l10n.t('{0}: another extension’s server', u.id),
    icon: u.failed ? 'error' : u.running ? 'server-process' : 'debug-pause',
    context: ['server'],
    details: `server ${u.id}: ${u.failed ? `failed: ${u.failed}` : u.running ? 'running' : 'stopped'}`,
    children: [],
  }));

/** Programs running from the toolchain without a lock (LockStatus.unlocked): an update would replace files under them. */
const unlocked: ChildKind = (_t, lock, id) =>
  (lock?.unlocked ?? []).map((p) => {
    const program = p.exe ?? p.command[0] ?? l10n.t('unknown program');
    const since = clock(p.since);
    return {
      id: `${id}/unlocked/${p.pid}/${p.since ?? ''}`,
      label: path.basename(program),
      description: [
        l10n.t('running without a lock'),
        l10n.t('pid {0}', p.pid),
        since ? l10n.t('since {0}', since) : '',
        p.user ?? '',
      ]
        .filter(Boolean)
        .join(' · '),
      tooltip: [
        p.command.join(' ') || program,
        l10n.t('Runs from this toolchain without a lock: an update would replace files under it.'),
      ].join('\n'),
      icon: 'warning',
      context: ['unlocked'],
      details: `without a lock: ${describeUnlocked(p)}`,
      children: [],
    };
  });

/** In display order. */
export const CHILD_KINDS: readonly ChildKind[] = [writer, waiting, holders, servers, unlocked];

function toolchainIcon(t: ToolchainSnapshot): string {
  switch (t.state) {
    case 'pending':
    case 'updating':
      return 'sync~spin';
    case 'acquiring':
      return 'watch';
    case 'error':
      return 'warning';
    default:
      return 'lock';
  }
}

function toolchainNode(t: ToolchainSnapshot, input: TreeInput): LockNode {
  const lock = input.locks.get(t.key);
  const id = `toolchain/${t.key}`;
  const children = CHILD_KINDS.flatMap((kind) => kind(t, lock, id));
  const context: NodeContext[] = ['toolchain'];
  if (input.updatable.has(t.key) && t.state !== 'updating') context.push('updatable');
  if (input.withUpdateLog.has(t.toolchain.name)) context.push('updateLog');
  const details = [
    lock ? describeLock(lock) : `${t.toolchain.name}: ${t.state}\n  directory: ${t.toolchain.path}`,
    ...children.filter((c) => c.context.includes('server')).map((c) => `  ${c.details}`),
  ];
  return {
    id,
    label: t.toolchain.name,
    description: longState(t, lock),
    tooltip: `${t.toolchain.name}\n${t.toolchain.path}`,
    icon: toolchainIcon(t),
    context,
    details: details.join('\n'),
    toolchain: { name: t.toolchain.name, path: t.toolchain.path },
    children,
  };
}

/** The top-level rows: every toolchain this window uses, then those it misses. */
export function lockTree(input: TreeInput): LockNode[] {
  if (input.unavailable !== null) {
    return [
      {
        id: 'unavailable',
        label: l10n.t('Locking is unavailable in this editor'),
        description: input.unavailable,
        tooltip: input.unavailable,
        icon: 'error',
        context: ['unavailable'],
        details: input.unavailable,
        children: [],
      },
    ];
  }
  const ts = [...input.toolchains].sort(
    (a, b) => a.toolchain.name.localeCompare(b.toolchain.name) || a.key.localeCompare(b.key),
  );
  const rows = ts.map((t) => toolchainNode(t, input));
  for (const m of input.missing) {
    rows.push({
      id: `missing/${m.path}`,
      label: m.name,
      description: l10n.t('not installed'),
      tooltip: m.why,
      icon: 'cloud-download',
      context: ['missing'],
      details: `${m.name}: not installed (${m.path})\n  ${m.why}`,
      toolchain: { name: m.name, path: m.path },
      children: [],
    });
  }
  return rows;
}
