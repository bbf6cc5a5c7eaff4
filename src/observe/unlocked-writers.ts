// Who changes a toolchain without its write lock, and whether the toolchain is whole again. An
// observation from the process table and the files (docs/PROTOCOL.md §unlockedWriter), never a lock.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { thisOs, isInside, type ProcessInfo } from '../lock/os';

/** `status --json`: `unlockedWriter`; `watch --json`: the `writer` of `unlocked-change`. */
export interface UnlockedWriter {
  /** The writing process, or null when the change is seen but nobody could be named. */
  readonly pid: number | null;
  readonly command: readonly string[];
  readonly exe: string | null;
  readonly user: string | null;
  /** When the writer started (or, unnamed, when the change was first seen). */
  readonly since: string | null;
  /**
   * How it was found: "rustup" (a rustup process of the RUSTUP_HOME this toolchain is in, running
   * a command that changes toolchains), "open-files" (a process with files open or its directory
   * inside the toolchain), "incomplete" (no writer seen, but files the toolchain lists are missing),
   * "changes" (files changed, writer not found).
   */
  readonly evidence: 'rustup' | 'open-files' | 'incomplete' | 'changes';
}

/** rustup subcommands that add, replace or remove toolchain files. */
const RUSTUP_CHANGING = new Set([
  'update',
  'upgrade',
  'install',
  'uninstall',
  'toolchain',
  'component',
  'target',
  'default',
  'self',
  'up',
  'init',
]);

function baseName(file: string): string {
  return path.basename(file).replace(/\.exe$/i, '');
}

function canonical(dir: string): string {
  try {
    return fs.realpathSync(dir);
  } catch {
    return path.resolve(dir);
  }
}

/** The RUSTUP_HOME a process works on (its environment, else ~/.rustup), where we can read it. */
function rustupHomeOf(pid: number): string | null {
  const explicit = thisOs.processEnv(pid, 'RUSTUP_HOME');
  if (explicit) return canonical(explicit);
  const home = thisOs.processEnv(pid, 'HOME') ?? thisOs.processEnv(pid, 'USERPROFILE');
  return home ? canonical(path.join(home, '.rustup')) : null;
}

/** Subcommands whose positional arguments name the toolchains they change. */
const NAMES_TOOLCHAINS = new Set(['update', 'upgrade', 'install', 'uninstall']);

/**
 * A rustup process (not a proxy such as `cargo`, which is the same binary) running a command that
 * changes the toolchain in `root`: `rustup update` without names changes all; with names, those
 * (`stable` names `stable-<host>`). Commands that change the default or a component are counted
 * for every toolchain: which one they touch is not read from the command line here.
 */
function isChangingRustup(p: ProcessInfo, root: string): boolean {
  const argv0 = p.command[0];
  const name = argv0 !== undefined ? baseName(argv0) : p.exe ? baseName(p.exe) : '';
  if (name === 'rustup-init') return true;
  if (name !== 'rustup') return false;
  const args = p.command.slice(1);
  const at = args.findIndex((a) => RUSTUP_CHANGING.has(a));
  if (at < 0) return false;
  const sub = args[at]!;
  const rest = args.slice(at + 1);
  const positional = (sub === 'toolchain' ? rest.slice(1) : rest).filter((a) => !a.startsWith('-'));
  if (!NAMES_TOOLCHAINS.has(sub === 'toolchain' ? (rest[0] ?? '') : sub) || positional.length === 0)
    return true;
  const dir = path.basename(root);
  return positional.some((t) => dir === t || dir.startsWith(`${t}-`));
}

function asWriter(p: ProcessInfo, evidence: UnlockedWriter['evidence']): UnlockedWriter {
  return { pid: p.pid, command: p.command, exe: p.exe, user: p.user, since: p.since, evidence };
}

/** A writer found, and whether a lock holder (or its descendant) is the one writing. */
export interface FoundWriter {
  readonly writer: UnlockedWriter;
  readonly byHolder: boolean;
  /** The writer's row of the process table (its startTime tells it from a reused pid). */
  readonly process: ProcessInfo;
}

/**
 * The process that changes `root`, from the process table: first a rustup of this toolchain's
 * RUSTUP_HOME running a changing command (also when a lock holder runs it, which `byHolder` then
 * says); with `anyOpener`, else any process not `covered` by the lock with a file open or its
 * directory inside the toolchain. This process is never named.
 */
export function findWriter(
  root: string,
  table: readonly ProcessInfo[],
  covered: (p: ProcessInfo) => boolean,
  options: { readonly anyOpener: boolean },
): FoundWriter | null {
  const others = table.filter((p) => p.pid !== process.pid);
  for (const p of others) {
    if (!isChangingRustup(p, root)) continue;
    const home = rustupHomeOf(p.pid);
    // Unknown home (another user's process): a changing rustup is still the likeliest writer.
    if (home === null || isInside(path.join(home, 'toolchains'), root))
      return { writer: asWriter(p, 'rustup'), byHolder: covered(p), process: p };
  }
  if (!options.anyOpener) return null;
  for (const p of others) {
    const cwd = thisOs.processCwd(p.pid);
    const inside =
      (cwd !== null && isInside(root, cwd)) ||
      (thisOs.openFiles(p.pid) ?? []).some((f) => isInside(root, f));
    // Coverage last: it reads the descriptors of the process and its ancestors.
    if (inside && !covered(p))
      return { writer: asWriter(p, 'open-files'), byHolder: false, process: p };
  }
  return null;
}

/**
 * Whether a rustup-style toolchain is whole: every component `lib/rustlib/components` lists has
 * its manifest, and every file and directory a manifest lists exists. A directory without
 * `lib/rustlib` is another kind of toolchain, judged whole when it exists.
 */
export function toolchainWhole(root: string): boolean {
  const rustlib = path.join(root, 'lib', 'rustlib');
  if (!fs.existsSync(rustlib)) return fs.existsSync(root);
  let components: string[];
  try {
    components = fs
      .readFileSync(path.join(rustlib, 'components'), 'utf8')
      .split('\n')
      .filter(Boolean);
  } catch {
    return false;
  }
  if (components.length === 0) return false;
  for (const c of components) {
    let manifest: string;
    try {
      manifest = fs.readFileSync(path.join(rustlib, `manifest-${c}`), 'utf8');
    } catch {
      return false;
    }
    for (const line of manifest.split('\n')) {
      const m = /^(?:file|dir):(.+)$/.exec(line.trim());
      if (m && !fs.existsSync(path.join(root, m[1]!))) return false;
    }
  }
  return true;
}

/** "rustup (pid 123)" for people; "an unknown process" when nobody could be named. */
export function describeUnlockedWriter(w: UnlockedWriter): string {
  if (w.pid === null)
    return w.evidence === 'incomplete'
      ? 'an unknown process (files of the toolchain are missing)'
      : 'an unknown process';
  const program = w.command[0] ?? w.exe;
  return `${program ? baseName(program) : 'a process'} (pid ${w.pid}${w.user ? `, user ${w.user}` : ''})`;
}
