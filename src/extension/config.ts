// The one place that reads `toolchainLock.*` settings: typed, validated, trust-aware.
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ConfiguredToolchain } from '../toolchains';
import { bilingual, type Bilingual } from './l10n';

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

/**
 * A language server owned by another extension. How it is steered, by what the entry names:
 * `stopCommand` + `startCommand` (commands), `api` (its exported language clients are stopped and
 * started), or only `restartCommand` (restart-only: the server keeps running during an update and
 * is restarted after it).
 */
export interface CoordinatedConfig {
  readonly extensionId: string;
  readonly stopCommand?: string;
  readonly startCommand?: string;
  readonly restartCommand?: string;
  /** The shape of the extension's exported API: `clangd` (vscode-clangd's getApi(1).languageClient). */
  readonly api?: CoordinatedApi;
  /** Toolchain name or path; default: from `toolchainFrom`, else each Cargo folder's active rustup toolchain. */
  readonly toolchain?: string;
  /** Where a preset finds its toolchain when `toolchain` is not set. */
  readonly toolchainFrom?: ToolchainFrom;
  readonly enabled: boolean;
  /** Its extension's "do not start the server at activation" setting, which we default to true (presets only). */
  readonly initializeStoppedSetting?: string;
  /** Its extension's setting naming a server binary of the user's choosing (presets only). */
  readonly serverPathSetting?: string;
}

export const COORDINATED_APIS = ['clangd'] as const;
export type CoordinatedApi = (typeof COORDINATED_APIS)[number];
/** cargo: each Cargo folder's rustup toolchain · clangd: the directory of `clangd.path` or of clangd on PATH · goroot: `go env GOROOT`. */
export type ToolchainFrom = 'cargo' | 'clangd' | 'goroot';

/** An entry steered through its stop and start commands. */
export type CommandsConfig = CoordinatedConfig & {
  readonly stopCommand: string;
  readonly startCommand: string;
};

/** How an entry's server is steered. */
export type CoordinatedMode = 'commands' | 'api' | 'restart';

export function coordinatedMode(c: CoordinatedConfig): CoordinatedMode {
  if (c.api !== undefined) return 'api';
  if (c.stopCommand !== undefined && c.startCommand !== undefined) return 'commands';
  return 'restart';
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
  /** Put the shims first on PATH in integrated terminals (plain cargo, rustc, rustup take the lock). */
  readonly terminalShims: boolean;
  /** Entries that were ignored, and why. */
  readonly problems: readonly Bilingual[];
  /** When the status bar item shows. */
  readonly statusBarShow: StatusBarShow;
  /** Notify when someone else's update stops a server of this window. */
  readonly notifyServerStopped: boolean;
}

export const STATUS_BAR_SHOW = ['always', 'whenRelevant', 'never'] as const;
export type StatusBarShow = (typeof STATUS_BAR_SHOW)[number];

/** Settings that name commands or paths: in an untrusted workspace only user/machine values count. */
export const RESTRICTED = ['servers', 'coordinatedExtensions', 'toolchains', 'lockDir'] as const;

/** Built in: rust-analyzer, on the active rustup toolchain of each Cargo folder. */
export const RUST_ANALYZER_PRESET: CoordinatedConfig = {
  extensionId: 'rust-lang.rust-analyzer',
  stopCommand: 'rust-analyzer.stopServer',
  startCommand: 'rust-analyzer.startServer',
  toolchainFrom: 'cargo',
  enabled: true,
  initializeStoppedSetting: 'rust-analyzer.initializeStopped',
  serverPathSetting: 'rust-analyzer.server.path',
};

/**
 * True when another extension's `initializeStopped`-like setting is on only through our
 * `configurationDefaults` (package.json): then its server waits for our start, which comes once
 * the read lock is held. A value the user set (true or false) is theirs: true means they start it
 * themselves, false that it starts at activation, before we can hold any lock.
 */
export function ownerWaitsForUs(setting: string): boolean {
  const dot = setting.indexOf('.');
  const i = vscode.workspace
    .getConfiguration(setting.slice(0, dot))
    .inspect<boolean>(setting.slice(dot + 1));
  const own = [i?.globalValue, i?.workspaceValue, i?.workspaceFolderValue].filter(
    (v) => v !== undefined,
  );
  return own.length === 0 && i?.defaultValue === true;
}

/** Another extension's string setting (a server path), expanded like ours; undefined when unset. */
export function ownerPath(setting: string): string | undefined {
  const dot = setting.indexOf('.');
  const v = vscode.workspace
    .getConfiguration(setting.slice(0, dot))
    .get<unknown>(setting.slice(dot + 1));
  return isString(v) ? expandHome(v) : undefined;
}

/** Built in: vscode-clangd, stopped and started through the language client its API exports. */
export const CLANGD_PRESET: CoordinatedConfig = {
  extensionId: 'llvm-vs-code-extensions.vscode-clangd',
  api: 'clangd',
  toolchainFrom: 'clangd',
  enabled: true,
};

/** Built in: vscode-go's gopls, which it can only restart (`go.languageserver.restart`). */
export const GO_PRESET: CoordinatedConfig = {
  extensionId: 'golang.go',
  restartCommand: 'go.languageserver.restart',
  toolchainFrom: 'goroot',
  enabled: true,
};

export const PRESETS: readonly CoordinatedConfig[] = [
  RUST_ANALYZER_PRESET,
  CLANGD_PRESET,
  GO_PRESET,
];

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
const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: Json): v is string => typeof v === 'string' && v !== '';
const isStringArray = (v: Json): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'string');

function num(v: Json, fallback: number, min: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= min ? v : fallback;
}

function parseServer(v: Json, problems: Bilingual[]): ManagedServerConfig | undefined {
  if (!isObject(v) || !isString(v.id) || !isString(v.command)) {
    problems.push(
      bilingual((l10n) =>
        l10n.t(
          '{0}.servers: an entry needs a string "id" and "command": {1}',
          SECTION,
          JSON.stringify(v),
        ),
      ),
    );
    return undefined;
  }
  const env: Record<string, string> = {};
  if (isObject(v.env))
    for (const [k, x] of Object.entries(v.env)) if (typeof x === 'string') env[k] = x;
  const selector = Array.isArray(v.documentSelector) ? v.documentSelector : [];
  const documentSelector = selector.filter(
    (x): x is string | vscode.DocumentFilter => typeof x === 'string' || isObject(x),
  );
  return {
    id: v.id,
    toolchain: isString(v.toolchain) ? v.toolchain : undefined,
    command: v.command,
    args: isStringArray(v.args) ? v.args : [],
    env,
    documentSelector,
  };
}

function parseCoordinated(v: Json, problems: Bilingual[]): CoordinatedConfig | undefined {
  const api = isObject(v) ? COORDINATED_APIS.find((a) => a === v.api) : undefined;
  const commands = isObject(v) && isString(v.stopCommand) && isString(v.startCommand);
  if (
    !isObject(v) ||
    !isString(v.extensionId) ||
    (!commands && !isString(v.restartCommand) && api === undefined)
  ) {
    problems.push(
      bilingual((l10n) =>
        l10n.t(
          '{0}.coordinatedExtensions: an entry needs "extensionId" and "stopCommand" with "startCommand", or "restartCommand", or "api": {1}',
          SECTION,
          JSON.stringify(v),
        ),
      ),
    );
    return undefined;
  }
  return {
    extensionId: v.extensionId,
    ...(commands
      ? { stopCommand: v.stopCommand as string, startCommand: v.startCommand as string }
      : {}),
    ...(isString(v.restartCommand) ? { restartCommand: v.restartCommand } : {}),
    ...(api !== undefined ? { api } : {}),
    toolchain: isString(v.toolchain) ? v.toolchain : undefined,
    enabled: v.enabled !== false,
  };
}

/** The configured entries, then the presets none of them replaces; an entry replacing a preset keeps where it finds its toolchain. */
export function withPresets(configured: readonly CoordinatedConfig[]): CoordinatedConfig[] {
  const same = (a: CoordinatedConfig, b: CoordinatedConfig): boolean =>
    a.extensionId.toLowerCase() === b.extensionId.toLowerCase();
  const entries = configured.map((c) => {
    const preset = PRESETS.find((p) => same(p, c));
    return preset?.toolchainFrom && c.toolchain === undefined
      ? { ...c, toolchainFrom: preset.toolchainFrom }
      : c;
  });
  return [...entries, ...PRESETS.filter((p) => !configured.some((c) => same(p, c)))];
}

function parseToolchain(v: Json, problems: Bilingual[]): ConfiguredToolchain | undefined {
  if (!isObject(v) || !isString(v.name) || (!isString(v.path) && !isString(v.rustup))) {
    problems.push(
      bilingual((l10n) =>
        l10n.t(
          '{0}.toolchains: an entry needs a "name" and a "path" or "rustup": {1}',
          SECTION,
          JSON.stringify(v),
        ),
      ),
    );
    return undefined;
  }
  if (
    v.updateCommand !== undefined &&
    (!isStringArray(v.updateCommand) || v.updateCommand.length === 0)
  ) {
    const name = v.name;
    problems.push(
      bilingual((l10n) =>
        l10n.t(
          '{0}.toolchains: "updateCommand" of {1} must be a non-empty array of strings (program and arguments); ignored',
          SECTION,
          name,
        ),
      ),
    );
  }
  return {
    name: v.name,
    ...(isString(v.path) ? { path: v.path } : { rustup: v.rustup as string }),
    ...(isStringArray(v.updateCommand) && v.updateCommand.length > 0
      ? { updateCommand: v.updateCommand }
      : {}),
  };
}

function list<T>(
  v: Json,
  parse: (x: Json, problems: Bilingual[]) => T | undefined,
  problems: Bilingual[],
): T[] {
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
  const problems: Bilingual[] = [];
  const configured = list(restricted('coordinatedExtensions'), parseCoordinated, problems);
  const lockDir = restricted('lockDir');
  return {
    servers: list(restricted('servers'), parseServer, problems),
    coordinatedExtensions: withPresets(configured).filter((c) => c.enabled),
    toolchains: list(restricted('toolchains'), parseToolchain, problems),
    lockDir: isString(lockDir) ? expandHome(lockDir) : undefined,
    pollIntervalMs: num(cfg.get('pollInterval'), 1000, 50),
    stopTimeoutMs: num(cfg.get('stopTimeout'), 5000, 100),
    updateTimeoutMs: num(cfg.get('updateTimeout'), 300_000, 0),
    unlockedProcesses: unlockedPolicy(cfg.get('unlockedProcesses'), problems),
    unlockedTimeoutMs: num(cfg.get('unlockedTimeout'), 30_000, 0),
    terminalShims: cfg.get('terminalShims') !== false,
    problems,
    statusBarShow: STATUS_BAR_SHOW.find((v) => v === cfg.get('statusBar.show')) ?? 'whenRelevant',
    notifyServerStopped: cfg.get('notifications.serverStopped') !== false,
  };
}

function unlockedPolicy(v: Json, problems: Bilingual[]): Config['unlockedProcesses'] {
  if (v === undefined) return 'wait';
  if (v === 'wait' || v === 'proceed' || v === 'fail') return v;
  problems.push(
    bilingual((l10n) =>
      l10n.t(
        'toolchainLock.unlockedProcesses must be "wait", "proceed" or "fail", not {0}; using "wait".',
        JSON.stringify(v),
      ),
    ),
  );
  return 'wait';
}

function expandHome(p: string): string {
  return path.resolve(
    p === '~' || p.startsWith('~/') || p.startsWith('~\\')
      ? path.join(os.homedir(), p.slice(1))
      : p,
  );
}
