import * as fs from 'node:fs';
import * as path from 'node:path';
import { expandPath, isPathSpec } from './resolve';
import {
  fullRustupName,
  hostTriple,
  matchRustupNames,
  rustupSettings,
  rustupToolchain,
  rustupToolchainNames,
  type RustupSettings,
} from './rustup';
import {
  parseToml,
  readTextFile,
  tomlString,
  tomlStrings,
  tomlTable,
  type TomlTable,
} from './toml';
import { canonicalToolchainPath } from '../lock';
import { ToolchainError } from './errors';
import type { ResolvedToolchain } from './types';

/** Which of rustup's rules chose a directory's toolchain (`which --json` reports it as `source`). */
export type ToolchainSource = 'env' | 'override' | 'toolchain-file' | 'default';

/** The toolchain rustup would use in a directory, and why. */
export interface ActiveToolchain {
  readonly toolchain: ResolvedToolchain;
  readonly source: ToolchainSource;
  /** The file holding the rule: settings.toml, rust-toolchain(.toml); null for RUSTUP_TOOLCHAIN. */
  readonly sourceFile: string | null;
  /** What a toolchain file asks rustup to install with the toolchain. */
  readonly wants?: ToolchainWants;
}

/** `components`, `targets` and `profile` of a rust-toolchain.toml, as written there (unchecked). */
export interface ToolchainWants {
  readonly components: readonly string[];
  readonly targets: readonly string[];
  readonly profile?: string;
}

function wantsOf(section: TomlTable | undefined): ToolchainWants | undefined {
  const components = tomlStrings(section, 'components');
  const targets = tomlStrings(section, 'targets');
  const profile = tomlString(section, 'profile');
  return components.length + targets.length > 0 || profile !== undefined
    ? { components, targets, ...(profile !== undefined ? { profile } : {}) }
    : undefined;
}

/** What a toolchain file or override asks for: a rustup name, a custom toolchain directory, or the default. */
type Request =
  { readonly name: string } | { readonly path: string } | { readonly useDefault: true };

/**
 * Reads `rust-toolchain` or `rust-toolchain.toml` in `dir` as rustup does: the legacy file is a
 * bare name when it has one line, else TOML like the other; `[toolchain]` has `channel` or `path`
 * (absolute), not both. With neither but components or targets, the default toolchain applies; a
 * file with no `[toolchain]` table, or with nothing in it that rustup counts, is refused (E_BAD_TOML).
 */
function toolchainFileIn(
  dir: string,
): { request: Request; file: string; wants?: ToolchainWants } | null {
  for (const name of ['rust-toolchain', 'rust-toolchain.toml']) {
    const file = path.join(dir, name);
    const text = readTextFile(file);
    if (text === null) continue;
    const lines = text.split(/\r?\n/);
    if (lines.at(-1) === '') lines.pop();
    if (name === 'rust-toolchain' && lines.length === 1) {
      const channel = lines[0]!.trim();
      if (channel !== '') return { request: { name: channel }, file };
    }
    if (text.trim() === '')
      throw new ToolchainError(
        'E_BAD_TOML',
        `${file} is empty. Name a toolchain in it (\`[toolchain]\` \`channel = "stable"\`) or remove it.`,
      );
    const section = tomlTable(parseToml(text, file), 'toolchain');
    // rustup 1.29 refuses these files rather than falling back to the default toolchain.
    const bad = (why: string): never => {
      throw new ToolchainError(
        'E_BAD_TOML',
        `${file} ${why}; rustup refuses it too. Name a toolchain in it (\`[toolchain]\` \`channel = "stable"\`) or remove it.`,
      );
    };
    if (section === undefined) bad('has no [toolchain] table');
    const channel = tomlString(section, 'channel');
    const wants = wantsOf(section);
    const custom = tomlString(section, 'path');
    if (channel !== undefined && custom !== undefined) bad('names both a channel and a path');
    if (channel) return { request: { name: channel }, file, ...(wants ? { wants } : {}) };
    if (custom) return { request: { path: custom }, file };
    // A profile alone does not count: rustup calls that "missing toolchain properties".
    if (!['components', 'targets'].some((k) => section![k] !== undefined))
      bad('has no channel, path, components or targets under [toolchain]');
    return { request: { useDefault: true }, file, ...(wants ? { wants } : {}) };
  }
  return null;
}

function realPathOrNull(p: string): string | null {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return null;
  }
}

/** The `rustup override set` entry for exactly `dir`, if any. */
function overrideFor(dir: string, settings: RustupSettings): Request | null {
  for (const [key, name] of settings.overrides) {
    // rustup stores canonical paths; a hand-edited entry may be a link to the directory.
    if (path.resolve(key) === dir || realPathOrNull(key) === dir) return { name };
  }
  return null;
}

/**
 * A custom toolchain given by path, as rustup accepts one for RUSTUP_TOOLCHAIN, `+TOOLCHAIN` or a
 * toolchain file: absolute, with a bin/ directory (rustup: "relative path toolchain", "has no bin/
 * directory"). `what` names where the path came from.
 */
function checkedToolchainPath(p: string, what: string): string {
  if (!path.isAbsolute(p))
    throw new ToolchainError(
      'E_UNKNOWN_TOOLCHAIN',
      `${what} names the relative path ${p}; rustup takes only an absolute path for a custom toolchain.`,
    );
  let bin = false;
  try {
    bin = fs.statSync(path.join(p, 'bin')).isDirectory();
  } catch {
    // Not there: reported below.
  }
  if (!bin)
    throw new ToolchainError(
      'E_UNKNOWN_TOOLCHAIN',
      `${what} names ${p}, which has no bin/ directory: not a toolchain rustup can run.`,
    );
  return p;
}

function fromRequest(
  request: Request,
  env: NodeJS.ProcessEnv,
  settings: RustupSettings,
): ResolvedToolchain | null {
  if ('useDefault' in request)
    return settings.defaultToolchain
      ? fromRequest({ name: settings.defaultToolchain }, env, settings)
      : null;
  if ('path' in request || isPathSpec(request.name)) {
    const p = 'path' in request ? request.path : expandPath(request.name, env, process.cwd());
    // Keyed as any toolchain path (a link stays the link), also when it is not there (yet).
    const canonical = canonicalToolchainPath(p);
    return { name: path.basename(canonical), path: canonical, kind: 'path' };
  }
  const installed = rustupToolchainNames(env) ?? [];
  const host = hostTriple(env, settings);
  const matches = matchRustupNames(request.name, installed);
  const chosen =
    matches.length === 1 ? matches[0] : matches.find((n) => n === `${request.name}-${host}`);
  // Not installed: name the directory rustup would install it in, so the lock is the same once it is.
  return rustupToolchain(chosen ?? fullRustupName(request.name, host), env);
}

/**
 * A toolchain as rustup reads a name on its command line (`rustup run NAME`, `toolchain install
 * NAME`, `--toolchain NAME`): an installed one it matches, else the directory rustup would create
 * for it (marked `missing`); a path is a custom toolchain directory.
 */
export function rustupNamed(name: string, env: NodeJS.ProcessEnv = process.env): ResolvedToolchain {
  return fromRequest({ name }, env, rustupSettings(env))!;
}

/**
 * The toolchain of a proxy's or rustup's leading `+TOOLCHAIN`, which beats every other rule: a
 * name as rustupNamed reads it, or an absolute path to a toolchain with a bin/ directory.
 */
export function commandLineToolchain(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedToolchain {
  if (isPathSpec(name)) checkedToolchainPath(name, `+${name}`);
  return rustupNamed(name, env);
}

/** `start` and its ancestors up to the root. */
function ancestors(start: string): string[] {
  const out: string[] = [];
  for (let dir = start; ; dir = path.dirname(dir)) {
    out.push(dir);
    if (path.dirname(dir) === dir) return out;
  }
}

/**
 * The rustup toolchain that `cargo`/`rustc` run in `dir` would use, found the way rustup finds it
 * without running it: RUSTUP_TOOLCHAIN; then, walking up from the directory, a `rustup override
 * set` entry for it or a rust-toolchain / rust-toolchain.toml file in it (nearest directory wins,
 * an override before a file in the same directory, as rustup does); then default_toolchain from
 * settings.toml. Null when none of these applies. A named toolchain that is not installed resolves
 * to the directory rustup would install it in, marked `missing`. A settings or toolchain file that
 * is not TOML throws a ToolchainError (E_BAD_TOML) naming it.
 */
export function whichToolchain(
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
): ActiveToolchain | null {
  const settings = rustupSettings(env);
  const found = (
    request: Request,
    source: ToolchainSource,
    sourceFile: string | null,
    wants?: ToolchainWants,
  ): ActiveToolchain | null => {
    // Unlike `rustup run PATH` and friends, a pin by path must be one rustup would run.
    if ('path' in request) checkedToolchainPath(request.path, sourceFile ?? 'RUSTUP_TOOLCHAIN');
    else if ('name' in request && source !== 'override' && isPathSpec(request.name))
      checkedToolchainPath(request.name, sourceFile ?? 'RUSTUP_TOOLCHAIN');
    const toolchain = fromRequest(request, env, settings);
    return toolchain ? { toolchain, source, sourceFile, ...(wants ? { wants } : {}) } : null;
  };
  if (env.RUSTUP_TOOLCHAIN) return found({ name: env.RUSTUP_TOOLCHAIN }, 'env', null);
  // rustup walks up from the process's working directory, which the kernel reports as a real path.
  // A directory that is gone still has ancestors worth checking.
  const start = realPathOrNull(path.resolve(dir)) ?? path.resolve(dir);
  for (const d of ancestors(start)) {
    const override = overrideFor(d, settings);
    if (override) return found(override, 'override', settings.file);
    const file = toolchainFileIn(d);
    if (file) return found(file.request, 'toolchain-file', file.file, file.wants);
  }
  return settings.defaultToolchain
    ? found({ name: settings.defaultToolchain }, 'default', settings.file)
    : null;
}

/** The toolchain of whichToolchain, or null. */
export function activeRustupToolchain(
  workspaceDir: string,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedToolchain | null {
  return whichToolchain(workspaceDir, env)?.toolchain ?? null;
}
