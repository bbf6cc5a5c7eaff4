import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { canonicalToolchainPath } from '../lock';
import { parseToml, readTextFile, tomlString, tomlTable } from './toml';
import type { ResolvedToolchain } from './types';
import { rustupUpdateCommand } from './update-command';

/**
 * For every process this extension starts: a rustup proxy never installs a missing toolchain
 * behind our back (and outside any write lock), as rust-analyzer does for its own children; a
 * missing toolchain goes through the install offer instead.
 */
export const NO_AUTO_INSTALL_ENV: Readonly<Record<string, string>> = { RUSTUP_AUTO_INSTALL: '0' };

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

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * A rustup toolchain by its directory name (as `rustup toolchain list` spells it). One that is not
 * installed names the directory rustup will install it in (`missing`); a linked one (`rustup
 * toolchain link`) is the link, which keeps its lock when re-linked, and has no update command:
 * rustup cannot update it.
 */
export function rustupToolchain(
  dirName: string,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedToolchain {
  const dir = path.join(rustupToolchainsDir(env), dirName);
  const linked = isSymlink(dir);
  return {
    name: dirName,
    path: canonicalToolchainPath(dir),
    kind: 'rustup',
    rustupName: dirName,
    ...(linked ? { linked: true } : { updateCommand: rustupUpdateCommand([dirName]) }),
    ...(isDirectory(dir) ? {} : { missing: true }),
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
  // A name that is not UTF-8 (U+FFFD in its place) cannot be keyed exactly (PROTOCOL.md §2).
  return names
    .filter((n) => !n.startsWith('.') && !n.includes('\uFFFD') && isDirectory(path.join(dir, n)))
    .sort();
}

/** Every toolchain rustup has installed or linked, without running rustup. */
export function listRustupToolchains(env: NodeJS.ProcessEnv = process.env): ResolvedToolchain[] {
  return (rustupToolchainNames(env) ?? []).map((n) => rustupToolchain(n, env));
}

/** What toolchain-lock needs from rustup's settings.toml. */
export interface RustupSettings {
  /** The file it was read from. */
  readonly file: string;
  readonly defaultToolchain?: string;
  readonly defaultHostTriple?: string;
  /** `rustup override set` entries: directory → toolchain name. */
  readonly overrides: ReadonlyMap<string, string>;
  /** `rustup set auto-install disable` was run. */
  readonly autoInstallDisabled?: true;
}

/** rustup's settings.toml; empty when absent. A file that is not TOML is an error naming it. */
export function rustupSettings(env: NodeJS.ProcessEnv = process.env): RustupSettings {
  const file = path.join(rustupHome(env), 'settings.toml');
  const text = readTextFile(file);
  if (text === null) return { file, overrides: new Map() };
  const doc = parseToml(text, file);
  const overrides = Object.entries(tomlTable(doc, 'overrides') ?? {}).filter(
    (e): e is [string, string] => typeof e[1] === 'string',
  );
  const defaultToolchain = tomlString(doc, 'default_toolchain');
  const defaultHostTriple =
    tomlString(doc, 'default_host_triple') ?? tomlString(doc, 'default_host');
  const autoInstallDisabled = tomlString(doc, 'auto_install') === 'disable';
  return {
    file,
    overrides: new Map(overrides),
    ...(defaultToolchain ? { defaultToolchain } : {}),
    ...(defaultHostTriple ? { defaultHostTriple } : {}),
    ...(autoInstallDisabled ? { autoInstallDisabled } : {}),
  };
}

/**
 * True when a proxy (cargo, rustc, ...) installs a toolchain it is asked for that is missing, as
 * rustup 1.28.1 and later do unless RUSTUP_AUTO_INSTALL=0 or `rustup set auto-install disable`.
 * rustup's proxies set RUSTUP_AUTO_INSTALL=0 for their children: nested calls never install.
 */
export function rustupAutoInstalls(
  env: NodeJS.ProcessEnv = process.env,
  settings: RustupSettings = rustupSettings(env),
): boolean {
  if (env.RUSTUP_AUTO_INSTALL === '0') return false;
  return settings.autoInstallDisabled !== true;
}

const ARCH: Readonly<Record<string, string>> = { x64: 'x86_64', arm64: 'aarch64' };
const OS_SUFFIX: Readonly<Record<string, string>> = {
  linux: 'unknown-linux-gnu',
  darwin: 'apple-darwin',
  win32: 'pc-windows-msvc',
};

/** The host triple: rustup's default_host_triple (or default_host) setting, else this platform's. */
export function hostTriple(
  env: NodeJS.ProcessEnv = process.env,
  settings: RustupSettings = rustupSettings(env),
): string | null {
  if (settings.defaultHostTriple) return settings.defaultHostTriple;
  const arch = ARCH[process.arch];
  const suffix = OS_SUFFIX[process.platform];
  return arch && suffix ? `${arch}-${suffix}` : null;
}

/** A release channel without a host triple: stable, beta, nightly, 1.95, 1.95.0, each with an optional date. */
const CHANNEL =
  /^(?:stable|beta|nightly|\d+\.\d+(?:\.\d+)?(?:-beta(?:\.\d+)?)?)(?:-\d{4}-\d{2}-\d{2})?$/;

/** True when `name` is a channel that rustup completes with the host triple. */
export function isBareChannel(name: string): boolean {
  return CHANNEL.test(name);
}

const TRIPLE = /^[a-z][a-z0-9_.]*(?:-[a-z0-9_.]+)+$/;

/** True when `name` is a channel, with or without a host triple: a toolchain rustup can install. */
export function isChannelName(name: string): boolean {
  if (isBareChannel(name)) return true;
  // `nightly-2026-01-01-x86_64-unknown-linux-gnu`: the channel may hold dashes, so try every split.
  for (let i = name.indexOf('-'); i > 0; i = name.indexOf('-', i + 1)) {
    if (isBareChannel(name.slice(0, i)) && TRIPLE.test(name.slice(i + 1))) return true;
  }
  return false;
}

/** The full name rustup gives a channel: `1.80.0` → `1.80.0-x86_64-unknown-linux-gnu`; other names unchanged. */
export function fullRustupName(name: string, host: string | null): string {
  return isBareChannel(name) && host !== null ? `${name}-${host}` : name;
}

/**
 * The installed toolchain directories that `spec` names as rustup would: exactly, or followed by a
 * host triple (`stable` → `stable-x86_64-unknown-linux-gnu`, but `nightly` never matches a dated
 * nightly: a triple starts with a letter, a date with a digit).
 */
export function matchRustupNames(spec: string, installed: readonly string[]): string[] {
  if (installed.includes(spec)) return [spec];
  const prefix = `${spec}-`;
  return installed.filter((n) => n.startsWith(prefix) && TRIPLE.test(n.slice(prefix.length)));
}
