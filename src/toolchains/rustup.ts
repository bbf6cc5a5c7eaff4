import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseTomlStrings, type TomlStrings } from './toml';
import type { ResolvedToolchain } from './types';

/** rustup's home: RUSTUP_HOME, else ~/.rustup. */
export function rustupHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RUSTUP_HOME) return path.resolve(env.RUSTUP_HOME);
  return path.join(homeDir(env), '.rustup');
}

/** The home directory as `env` sees it (falls back to the OS account's). */
export function homeDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.HOME || env.USERPROFILE || os.homedir();
}

/** Where rustup keeps installed (and linked) toolchains. */
export function rustupToolchainsDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(rustupHome(env), 'toolchains');
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function canonical(p: string): string {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return path.resolve(p);
  }
}

/** A rustup toolchain by its directory name (as `rustup toolchain list` spells it). */
export function rustupToolchain(dirName: string, env: NodeJS.ProcessEnv = process.env): ResolvedToolchain {
  return {
    name: dirName,
    path: canonical(path.join(rustupToolchainsDir(env), dirName)),
    kind: 'rustup',
    rustupName: dirName,
    updateCommand: ['rustup', 'update', dirName],
  };
}

/** Names of the directories in $RUSTUP_HOME/toolchains, sorted; null when that directory does not exist. */
export function rustupToolchainNames(env: NodeJS.ProcessEnv = process.env): string[] | null {
  const dir = rustupToolchainsDir(env);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return null;
  }
  // Linked toolchains (`rustup toolchain link`) are symlinks to directories: statSync follows them.
  return names.filter((n) => !n.startsWith('.') && isDirectory(path.join(dir, n))).sort();
}

/** Every toolchain rustup has installed or linked, without running rustup. */
export function listRustupToolchains(env: NodeJS.ProcessEnv = process.env): ResolvedToolchain[] {
  return (rustupToolchainNames(env) ?? []).map((n) => rustupToolchain(n, env));
}

/** rustup's settings.toml, parsed for its string values; empty when absent or unreadable. */
export function rustupSettings(env: NodeJS.ProcessEnv = process.env): TomlStrings {
  try {
    return parseTomlStrings(fs.readFileSync(path.join(rustupHome(env), 'settings.toml'), 'utf8'));
  } catch {
    return new Map();
  }
}

const ARCH: Readonly<Record<string, string>> = { x64: 'x86_64', arm64: 'aarch64' };
const OS_SUFFIX: Readonly<Record<string, string>> = { linux: 'unknown-linux-gnu', darwin: 'apple-darwin', win32: 'pc-windows-msvc' };

/** The host triple: rustup's default_host_triple (or default_host) setting, else this platform's. */
export function hostTriple(env: NodeJS.ProcessEnv = process.env, settings: TomlStrings = rustupSettings(env)): string | null {
  const top = settings.get('');
  const configured = top?.get('default_host_triple') ?? top?.get('default_host');
  if (configured) return configured;
  const arch = ARCH[process.arch];
  const suffix = OS_SUFFIX[process.platform];
  return arch && suffix ? `${arch}-${suffix}` : null;
}

/** A release channel without a host triple: stable, beta, nightly, 1.95, 1.95.0, each with an optional date. */
const CHANNEL = /^(?:stable|beta|nightly|\d+\.\d+(?:\.\d+)?(?:-beta(?:\.\d+)?)?)(?:-\d{4}-\d{2}-\d{2})?$/;

/** True when `name` is a channel that rustup completes with the host triple. */
export function isBareChannel(name: string): boolean {
  return CHANNEL.test(name);
}

/**
 * The installed toolchain directories that `spec` names as rustup would: exactly, or followed by a
 * host triple (`stable` → `stable-x86_64-unknown-linux-gnu`, but `nightly` never matches a dated
 * nightly: a triple starts with a letter, a date with a digit).
 */
export function matchRustupNames(spec: string, installed: readonly string[]): string[] {
  if (installed.includes(spec)) return [spec];
  const prefix = `${spec}-`;
  return installed.filter((n) => n.startsWith(prefix) && /^[a-z][a-z0-9_.]*(?:-[a-z0-9_.]+)+$/.test(n.slice(prefix.length)));
}
