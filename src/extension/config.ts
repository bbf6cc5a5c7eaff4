// The one place that reads `toolchainLock.*` settings: typed, validated, trust-aware.
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ConfiguredToolchain } from '../toolchains';

export const SECTION = 'toolchainLock';

/** A language server this extension starts itself. */
export interface ManagedServerConfig {
  readonly id: string;
  /** Toolchain name or path; default: the first folder's active rustup toolchain. */
  readonly toolchain?: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly documentSelector: readonly (string | vscode.DocumentFilter)[];
}

/** A language server owned by another extension, stopped and started through its commands. */
export interface CoordinatedConfig {
  readonly extensionId: string;
  readonly stopCommand: string;
  readonly startCommand: string;
  /** Toolchain name or path; default: each Cargo folder's active rustup toolchain. */
  readonly toolchain?: string;
  readonly enabled: boolean;
}

export interface Config {
  readonly servers: readonly ManagedServerConfig[];
  /** The configured entries plus the built-in presets they do not override. */
  readonly coordinatedExtensions: readonly CoordinatedConfig[];
  readonly toolchains: readonly ConfiguredToolchain[];
  readonly lockDir: string | undefined;
  readonly pollIntervalMs: number;
  readonly stopTimeoutMs: number;
  /** 0: wait for the write lock until cancelled. */
  readonly updateTimeoutMs: number;
  /** What an update does about processes running from the toolchain without a lock. */
  readonly unlockedProcesses: 'wait' | 'proceed' | 'fail';
  readonly unlockedTimeoutMs: number;
  /** Entries that were ignored, and why. */
  readonly problems: readonly string[];
}

/** Settings that name commands or paths: in an untrusted workspace only user/machine values count. */
export const RESTRICTED = ['servers', 'coordinatedExtensions', 'toolchains', 'lockDir'] as const;

/** Built in: rust-analyzer, on the active rustup toolchain of each Cargo folder. */
export const RUST_ANALYZER_PRESET: CoordinatedConfig = {
  extensionId: 'rust-lang.rust-analyzer',
  stopCommand: 'rust-analyzer.stopServer',
  startCommand: 'rust-analyzer.startServer',
  enabled: true,
};

/** What a settings change requires: rebuild the lock coordinator, re-resolve the servers, or nothing. */
export type ChangeImpact = 'lock' | 'units' | 'none';

/**
 * Compares what was read before and after, not what a change event claims: VS Code may drop
 * values without an event (a settings migration rewriting settings.json), or fire one for nothing.
 */
export function configImpact(before: Config, after: Config): ChangeImpact {
  const same = (k: keyof Config): boolean => JSON.stringify(before[k]) === JSON.stringify(after[k]);
  if (!same('lockDir') || !same('pollIntervalMs')) return 'lock';
  if (!same('servers') || !same('coordinatedExtensions') || !same('toolchains')) return 'units';
  return 'none';
}

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: Json): v is string => typeof v === 'string' && v !== '';
const isStringArray = (v: Json): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function num(v: Json, fallback: number, min: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= min ? v : fallback;
}

function parseServer(v: Json, problems: string[]): ManagedServerConfig | undefined {
  if (!isObject(v) || !isString(v.id) || !isString(v.command)) {
    problems.push(`${SECTION}.servers: an entry needs a string "id" and "command": ${JSON.stringify(v)}`);
    return undefined;
  }
  const env: Record<string, string> = {};
  if (isObject(v.env)) for (const [k, x] of Object.entries(v.env)) if (typeof x === 'string') env[k] = x;
  const selector = Array.isArray(v.documentSelector) ? v.documentSelector : [];
  const documentSelector = selector.filter((x): x is string | vscode.DocumentFilter => typeof x === 'string' || isObject(x));
  return {
    id: v.id,
    toolchain: isString(v.toolchain) ? v.toolchain : undefined,
    command: v.command,
    args: isStringArray(v.args) ? v.args : [],
    env,
    documentSelector,
  };
}

function parseCoordinated(v: Json, problems: string[]): CoordinatedConfig | undefined {
  if (!isObject(v) || !isString(v.extensionId) || !isString(v.stopCommand) || !isString(v.startCommand)) {
    problems.push(`${SECTION}.coordinatedExtensions: an entry needs "extensionId", "stopCommand" and "startCommand": ${JSON.stringify(v)}`);
    return undefined;
  }
  return {
    extensionId: v.extensionId,
    stopCommand: v.stopCommand,
    startCommand: v.startCommand,
    toolchain: isString(v.toolchain) ? v.toolchain : undefined,
    enabled: v.enabled !== false,
  };
}

function parseToolchain(v: Json, problems: string[]): ConfiguredToolchain | undefined {
  if (!isObject(v) || !isString(v.name) || (!isString(v.path) && !isString(v.rustup))) {
    problems.push(`${SECTION}.toolchains: an entry needs a "name" and a "path" or "rustup": ${JSON.stringify(v)}`);
    return undefined;
  }
  if (v.updateCommand !== undefined && (!isStringArray(v.updateCommand) || v.updateCommand.length === 0)) {
    problems.push(`${SECTION}.toolchains: "updateCommand" of ${v.name} must be a non-empty array of strings (program and arguments); ignored`);
  }
  return {
    name: v.name,
    ...(isString(v.path) ? { path: v.path } : { rustup: v.rustup as string }),
    ...(isStringArray(v.updateCommand) && v.updateCommand.length > 0 ? { updateCommand: v.updateCommand } : {}),
  };
}

function list<T>(v: Json, parse: (x: Json, problems: string[]) => T | undefined, problems: string[]): T[] {
  if (!Array.isArray(v)) return [];
  return v.map((x) => parse(x, problems)).filter((x): x is T => x !== undefined);
}

/** Reads every setting; in an untrusted workspace the restricted ones come from user/machine scope only. */
export function readConfig(trusted: boolean = vscode.workspace.isTrusted): Config {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const restricted = (key: (typeof RESTRICTED)[number]): Json => {
    if (trusted) return cfg.get(key);
    const i = cfg.inspect(key);
    return i?.globalValue ?? i?.defaultValue;
  };
  const problems: string[] = [];
  const configured = list(restricted('coordinatedExtensions'), parseCoordinated, problems);
  const presets = [RUST_ANALYZER_PRESET].filter((p) => !configured.some((c) => c.extensionId.toLowerCase() === p.extensionId));
  const lockDir = restricted('lockDir');
  return {
    servers: list(restricted('servers'), parseServer, problems),
    coordinatedExtensions: [...configured, ...presets].filter((c) => c.enabled),
    toolchains: list(restricted('toolchains'), parseToolchain, problems),
    lockDir: isString(lockDir) ? expandHome(lockDir) : undefined,
    pollIntervalMs: num(cfg.get('pollInterval'), 1000, 50),
    stopTimeoutMs: num(cfg.get('stopTimeout'), 5000, 100),
    updateTimeoutMs: num(cfg.get('updateTimeout'), 300_000, 0),
    unlockedProcesses: unlockedPolicy(cfg.get('unlockedProcesses'), problems),
    unlockedTimeoutMs: num(cfg.get('unlockedTimeout'), 30_000, 0),
    problems,
  };
}

function unlockedPolicy(v: Json, problems: string[]): Config['unlockedProcesses'] {
  if (v === undefined || v === 'wait' || v === 'proceed' || v === 'fail') return (v as Config['unlockedProcesses'] | undefined) ?? 'wait';
  problems.push(`toolchainLock.unlockedProcesses must be "wait", "proceed" or "fail", not ${JSON.stringify(v)}; using "wait".`);
  return 'wait';
}

function expandHome(p: string): string {
  return path.resolve(p === '~' || p.startsWith('~/') || p.startsWith('~\\') ? path.join(os.homedir(), p.slice(1)) : p);
}
