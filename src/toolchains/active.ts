import * as fs from 'node:fs';
import * as path from 'node:path';
import { expandPath, isPathSpec } from './resolve';
import { hostTriple, isBareChannel, matchRustupNames, rustupSettings, rustupToolchain, rustupToolchainNames } from './rustup';
import { parseTomlStrings, type TomlStrings } from './toml';
import type { ResolvedToolchain } from './types';

/** What a toolchain file or override asks for: a rustup name, or a custom toolchain directory. */
type Request = { readonly name: string } | { readonly path: string };

function readFile(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** Reads `rust-toolchain` (a bare name, or TOML) or `rust-toolchain.toml` in `dir`, as rustup does. */
function toolchainFileIn(dir: string): Request | null {
  for (const file of ['rust-toolchain', 'rust-toolchain.toml']) {
    const text = readFile(path.join(dir, file));
    if (text === null) continue;
    const trimmed = text.trim();
    // The legacy file holds just a name unless it has TOML in it.
    if (file === 'rust-toolchain' && trimmed !== '' && !trimmed.includes('[') && !trimmed.includes('=') && !trimmed.includes('\n')) {
      return { name: trimmed };
    }
    const section = parseTomlStrings(text).get('toolchain');
    const channel = section?.get('channel');
    if (channel) return { name: channel };
    const custom = section?.get('path');
    if (custom) return { path: path.resolve(dir, custom) };
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
function overrideFor(dir: string, settings: TomlStrings): Request | null {
  const overrides = settings.get('overrides');
  if (!overrides) return null;
  for (const [key, name] of overrides) {
    // rustup stores canonical paths; a hand-edited entry may be a link to the directory.
    if (path.resolve(key) === dir || realPathOrNull(key) === dir) return { name };
  }
  return null;
}

function fromRequest(request: Request, env: NodeJS.ProcessEnv, settings: TomlStrings): ResolvedToolchain {
  if ('path' in request || isPathSpec(request.name)) {
    const p = 'path' in request ? request.path : expandPath(request.name, env, process.cwd());
    let real = p;
    try {
      real = fs.realpathSync.native(p);
    } catch {
      // Not there (yet): the lock is still keyed on the absolute path.
    }
    return { name: path.basename(real), path: real, kind: 'path' };
  }
  const installed = rustupToolchainNames(env) ?? [];
  const host = hostTriple(env, settings);
  const matches = matchRustupNames(request.name, installed);
  const chosen = matches.length === 1 ? matches[0] : matches.find((n) => n === `${request.name}-${host}`);
  if (chosen) return rustupToolchain(chosen, env);
  // Not installed: name the directory rustup would install it in, so the lock is the same once it is.
  return rustupToolchain(isBareChannel(request.name) && host !== null ? `${request.name}-${host}` : request.name, env);
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
 * The rustup toolchain that `cargo`/`rustc` run in `workspaceDir` would use, found the way rustup
 * finds it without running it: RUSTUP_TOOLCHAIN; then, walking up from the directory, a
 * `rustup override set` entry for it or a rust-toolchain / rust-toolchain.toml file in it (nearest
 * directory wins, an override before a file in the same directory, as rustup does); then
 * default_toolchain from settings.toml. Null when none of these applies. A named toolchain that is
 * not installed resolves to the directory rustup would install it in.
 */
export function activeRustupToolchain(workspaceDir: string, env: NodeJS.ProcessEnv = process.env): ResolvedToolchain | null {
  const settings = rustupSettings(env);
  if (env.RUSTUP_TOOLCHAIN) return fromRequest({ name: env.RUSTUP_TOOLCHAIN }, env, settings);
  // rustup walks up from the process's working directory, which the kernel reports as a real path.
  let dir = path.resolve(workspaceDir);
  try {
    dir = fs.realpathSync.native(dir);
  } catch {
    // A directory that is gone still has ancestors worth checking.
  }
  for (const d of ancestors(dir)) {
    const request = overrideFor(d, settings) ?? toolchainFileIn(d);
    if (request) return fromRequest(request, env, settings);
  }
  const fallback = settings.get('')?.get('default_toolchain');
  return fallback ? fromRequest({ name: fallback }, env, settings) : null;
}
