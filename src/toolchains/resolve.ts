import * as fs from 'node:fs';
import * as path from 'node:path';
import { canonicalToolchainPath } from '../lock';
import { ToolchainError } from './errors';
import {
  fullRustupName,
  homeDir,
  hostTriple,
  isChannelName,
  matchRustupNames,
  rustupHome,
  rustupToolchain,
  rustupToolchainNames,
  rustupToolchainsDir,
} from './rustup';
import type { ConfiguredToolchain, ResolvedToolchain } from './types';
import { configuredFromEnv } from './from-env';

export interface ResolveOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Base for relative paths (default process.cwd()). */
  readonly cwd?: string;
  readonly configured?: readonly ConfiguredToolchain[];
  /**
   * Also resolve a directory that does not exist yet, and a rustup channel that is not installed (`1.80.0`, `nightly-2026-01-01`, with or
   * without the host triple) to the directory rustup will install it in, marked `missing`: for
   * updates and installs, which must lock it before it exists. Needs a rustup home.
   */
  readonly allowMissing?: boolean;
}

/** What Node puts in a path string in place of bytes that are not UTF-8. */
const NOT_UTF8 = '\uFFFD';

/** True when a spec is a directory path rather than a name. */
export function isPathSpec(spec: string): boolean {
  return (
    spec.includes('/') || spec.includes(path.sep) || spec.startsWith('.') || spec.startsWith('~')
  );
}

/**
 * Expands a leading `~` and makes the path absolute against `cwd`, leaving `..` and `.` to be
 * resolved after the links before them (PROTOCOL.md §2), not textually.
 */
export function expandPath(p: string, env: NodeJS.ProcessEnv, cwd: string): string {
  const expanded =
    p === '~'
      ? homeDir(env)
      : p.startsWith('~/') || p.startsWith(`~${path.sep}`)
        ? `${homeDir(env)}${path.sep}${p.slice(2)}`
        : p;
  if (path.isAbsolute(expanded)) return expanded;
  return cwd.endsWith(path.sep) ? cwd + expanded : cwd + path.sep + expanded;
}

/** The canonical path of an existing directory, or undefined. */
function existingDirectory(p: string): string | undefined {
  try {
    const real = fs.realpathSync.native(p);
    return fs.statSync(real).isDirectory() ? real : undefined;
  } catch {
    return undefined;
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function fromPath(
  spec: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
  what: string,
  allowMissing = false,
): ResolvedToolchain {
  const absolute = expandPath(spec, env, cwd);
  // A link (`current -> llvm-14`) stays the link: A/B updaters flip it, and it stays one toolchain.
  const canonical = canonicalToolchainPath(absolute);
  if (canonical.includes(NOT_UTF8)) {
    // Node hands such names over with U+FFFD in place of each bad byte: `bad\xff` and `bad\xfe`
    // would share one key (PROTOCOL.md §2 defines keys for UTF-8 paths only).
    throw new ToolchainError(
      'E_UNKNOWN_TOOLCHAIN',
      `${what} ${canonical} is not valid UTF-8 (shown with \uFFFD): a toolchain lock needs a path it can name exactly. Rename the directory or name it through a link.`,
    );
  }
  if (!isDirectory(absolute)) {
    // An install is about to create it: its lock is that of the directory it will be.
    if (allowMissing && !fs.existsSync(absolute))
      return { name: path.basename(canonical), path: canonical, kind: 'path', missing: true };
    throw new ToolchainError(
      'E_UNKNOWN_TOOLCHAIN',
      `${what} ${canonical} is not an existing directory. Give the directory the toolchain is installed in.`,
    );
  }
  const resolved: ResolvedToolchain = {
    name: path.basename(canonical),
    path: canonical,
    kind: 'path',
  };
  // A path into rustup's toolchains directory is that rustup toolchain: same lock, and rustup can update it (unless it is linked).
  const rustupDir = existingDirectory(rustupToolchainsDir(env));
  if (rustupDir !== undefined && path.dirname(canonical) === rustupDir) {
    return { ...resolved, ...rustupFacts(rustupToolchain(resolved.name, env)) };
  }
  return resolved;
}

/** What a toolchain standing for a rustup one keeps of it: its name, whether it is linked, its update. */
function rustupFacts(
  r: ResolvedToolchain,
): Pick<ResolvedToolchain, 'rustupName' | 'linked' | 'updateCommand'> {
  return {
    ...(r.rustupName !== undefined ? { rustupName: r.rustupName } : {}),
    ...(r.linked ? { linked: true } : {}),
    ...(r.updateCommand ? { updateCommand: r.updateCommand } : {}),
  };
}

/** A channel rustup could install, when allowed and there is a rustup home to install it in. */
function notInstalled(
  spec: string,
  env: NodeJS.ProcessEnv,
  allowMissing: boolean,
): ResolvedToolchain | undefined {
  if (!allowMissing || !isChannelName(spec) || existingDirectory(rustupHome(env)) === undefined)
    return undefined;
  return rustupToolchain(fullRustupName(spec, hostTriple(env)), env);
}

function fromRustup(
  spec: string,
  env: NodeJS.ProcessEnv,
  configured: readonly ConfiguredToolchain[],
  allowMissing = false,
): ResolvedToolchain | undefined {
  const installed = rustupToolchainNames(env);
  if (installed === null) return notInstalled(spec, env, allowMissing);
  const matches = matchRustupNames(spec, installed);
  if (matches.length === 1) return rustupToolchain(matches[0]!, env);
  if (matches.length === 0) return notInstalled(spec, env, allowMissing);
  const host = hostTriple(env);
  const native = matches.find((n) => host !== null && n === `${spec}-${host}`);
  if (native) return rustupToolchain(native, env);
  throw new ToolchainError(
    'E_UNKNOWN_TOOLCHAIN',
    `The toolchain name "${spec}" matches several rustup toolchains (${matches.join(', ')}) and none is for this host (${host ?? 'unknown'}). ` +
      'Give the full name.',
    knownNames(env, configured),
  );
}

/** Every toolchain name a lookup could have found: rustup's plus the configured ones. */
export function knownNames(
  env: NodeJS.ProcessEnv,
  configured: readonly ConfiguredToolchain[],
): string[] {
  return [...(rustupToolchainNames(env) ?? []), ...configured.map((c) => c.name)];
}

function unknown(
  spec: string,
  env: NodeJS.ProcessEnv,
  configured: readonly ConfiguredToolchain[],
): ToolchainError {
  const installed = rustupToolchainNames(env);
  const rustupDir = rustupToolchainsDir(env);
  const known = knownNames(env, configured);
  const listing = [
    ...(installed ?? []).map((n) => `${n} (rustup)`),
    ...configured.map((c) => `${c.name} (configured)`),
  ];
  const where = [
    installed === null
      ? `rustup's toolchains directory ${rustupDir} (it does not exist; set RUSTUP_HOME if rustup lives elsewhere)`
      : `rustup's toolchains directory ${rustupDir}`,
    configured.length > 0 ? 'the configured toolchains' : 'no configured toolchains',
  ];
  const hint =
    'Give one of these names, a rustup name such as `stable` or `1.95.0`, or the toolchain directory as a path (e.g. ./my-toolchain or /opt/toolchain).';
  const knownText =
    listing.length > 0 ? `Known toolchains: ${listing.join(', ')}.` : 'No toolchains are known.';
  const code =
    installed === null && configured.length === 0 ? 'E_NO_RUSTUP' : 'E_UNKNOWN_TOOLCHAIN';
  return new ToolchainError(
    code,
    `Unknown toolchain "${spec}". ${knownText} Looked in ${where.join(' and ')}. ${hint}`,
    known,
  );
}

function fromConfigured(
  c: ConfiguredToolchain,
  env: NodeJS.ProcessEnv,
  cwd: string,
  configured: readonly ConfiguredToolchain[],
): ResolvedToolchain {
  // A configured update command wins; else that of the rustup toolchain it stands for (none if linked).
  const withUpdate = (r: ResolvedToolchain): ResolvedToolchain => ({
    name: c.name,
    path: r.path,
    kind: 'configured',
    ...rustupFacts(r),
    ...(c.updateCommand ? { updateCommand: c.updateCommand } : {}),
  });
  if (c.path !== undefined)
    return withUpdate(fromPath(c.path, env, cwd, `The configured toolchain "${c.name}" points at`));
  if (c.rustup !== undefined) {
    const r = fromRustup(c.rustup, env, configured);
    if (!r) throw unknown(c.rustup, env, configured);
    return withUpdate(r);
  }
  throw new ToolchainError(
    'E_UNKNOWN_TOOLCHAIN',
    `The configured toolchain "${c.name}" has neither a path nor a rustup name. Give it one of them.`,
    knownNames(env, configured),
  );
}

/**
 * Resolves a toolchain spec to its canonical directory: a path (contains a separator or starts
 * with `.`, `~`, `/`), else a configured name, else a rustup name as rustup spells it. Never runs
 * rustup or touches the network.
 */
export function resolveToolchain(spec: string, options: ResolveOptions = {}): ResolvedToolchain {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const configured = options.configured ?? configuredFromEnv(env);
  if (spec === '') throw unknown(spec, env, configured);
  if (isPathSpec(spec)) return fromPath(spec, env, cwd, 'The toolchain path', options.allowMissing);
  const c = configured.find((t) => t.name === spec);
  if (c) return fromConfigured(c, env, cwd, configured);
  const r = fromRustup(spec, env, configured, options.allowMissing);
  if (r) return r;
  throw unknown(spec, env, configured);
}
