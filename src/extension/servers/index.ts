// Settings + workspace → the servers this window runs or steers, each with its toolchains.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { message, type Toolchain } from '../../lock';
import {
  hostTriple,
  isPathSpec,
  resolveToolchain,
  whichToolchain,
  type ActiveToolchain,
  type ResolvedToolchain,
  type ToolchainSource,
  type ToolchainWants,
} from '../../toolchains';
import {
  coordinatedMode,
  ownerPath,
  ownerWaitsForUs,
  type CommandsConfig,
  type Config,
  type CoordinatedConfig,
} from '../config';
import { bilingual, type Bilingual } from '../l10n';
import type { Logger, ServerUnit } from '../state';
import { ApiServer } from './clangdapi';
import { CoordinatedServer, coordinatedId } from './coordinated';
import { ManagedServer } from './managed';
import { clangdToolchainDir, goRoot } from './presettoolchains';
import { RestartOnlyServer } from './restartonly';

export type { ServerUnit } from '../state';

export interface UnitDeps {
  readonly log: Logger;
  readonly output: vscode.OutputChannel;
  readonly stopTimeoutMs: () => number;
}

/** A rustup toolchain a folder's rules name (rust-toolchain.toml, an override, …) that is not installed. */
export interface MissingToolchain {
  /** Where rustup will install it (`missing`); its lock is keyed on that directory already. */
  readonly toolchain: ResolvedToolchain;
  /** As the servers and the status bar name it. */
  readonly shown: Toolchain;
  /** Which of rustup's rules named it, or `setting`: a server's "toolchain" in our settings; and in which file (null for RUSTUP_TOOLCHAIN and settings). */
  readonly source: ToolchainSource | 'setting';
  readonly sourceFile: string | null;
  /** The folder whose toolchain it is. */
  readonly folder: string;
  /** Ids of the servers that need it. */
  readonly units: readonly string[];
  /** Components, targets and profile its toolchain file asks for. */
  readonly wants?: ToolchainWants;
}

export interface BuiltUnits {
  readonly units: readonly ServerUnit[];
  /** Servers that could not be set up, and why (shown once in the log and a notification). */
  readonly problems: readonly Bilingual[];
  /** Toolchains the servers need that rustup has not installed, one entry per toolchain. */
  readonly missing: readonly MissingToolchain[];
}

/** Collects the missing toolchains servers need, one entry per directory. */
function missingCollector(): {
  note(
    found: Pick<ActiveToolchain, 'toolchain' | 'sourceFile' | 'wants'> & {
      source: MissingToolchain['source'];
    },
    folder: string,
    unitId: string,
  ): void;
  list(): MissingToolchain[];
} {
  const byPath = new Map<string, MissingToolchain & { units: string[] }>();
  return {
    note(found, folder, unitId) {
      const t = found.toolchain;
      if (!t.missing || t.rustupName === undefined) return;
      const m = byPath.get(t.path) ?? {
        toolchain: t,
        shown: displayToolchain(t),
        source: found.source,
        sourceFile: found.sourceFile,
        folder,
        units: [],
        ...(found.wants ? { wants: found.wants } : {}),
      };
      byPath.set(t.path, m);
      if (!m.units.includes(unitId)) m.units.push(unitId);
    },
    list: () => [...byPath.values()],
  };
}

function localFolders(): string[] {
  return (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === 'file')
    .map((f) => f.uri.fsPath);
}

/** Directories of the Cargo projects open: folders with a Cargo.toml, else the first few found below. */
async function cargoDirs(folders: readonly string[]): Promise<string[]> {
  const roots = folders.filter((f) => fs.existsSync(path.join(f, 'Cargo.toml')));
  if (roots.length > 0 || folders.length === 0) return roots;
  const found = await vscode.workspace.findFiles(
    '**/Cargo.toml',
    '**/{target,node_modules,.git}/**',
    5,
  );
  return found.filter((u) => u.scheme === 'file').map((u) => path.dirname(u.fsPath));
}

/** How a toolchain is named to people: rustup's `stable-x86_64-unknown-linux-gnu` is `stable` here. */
export function displayToolchain(t: ResolvedToolchain): Toolchain {
  const triple = hostTriple();
  const short =
    t.rustupName && triple && t.name.endsWith(`-${triple}`)
      ? t.name.slice(0, -triple.length - 1)
      : t.name;
  return { name: short, path: t.path };
}

function unique(toolchains: readonly ResolvedToolchain[]): ResolvedToolchain[] {
  return [...new Map(toolchains.map((t) => [t.path, t])).values()];
}

/**
 * A server's "toolchain" setting: a rustup name that is not installed resolves to where rustup will
 * install it (and is offered for install) instead of failing as unknown; a path must exist.
 */
function fromSetting(spec: string, config: Config, cwd: string | undefined): ResolvedToolchain {
  return resolveToolchain(spec, {
    cwd: cwd ?? os.homedir(),
    configured: config.toolchains,
    allowMissing: !isPathSpec(spec),
  });
}

async function coordinatedToolchains(
  c: CoordinatedConfig,
  config: Config,
  folders: readonly string[],
  noteActive: (
    found: Parameters<ReturnType<typeof missingCollector>['note']>[0],
    folder: string,
  ) => void,
): Promise<ResolvedToolchain[]> {
  if (c.toolchain !== undefined) {
    const toolchain = fromSetting(c.toolchain, config, folders[0]);
    noteActive({ toolchain, source: 'setting', sourceFile: null }, folders[0] ?? os.homedir());
    return [toolchain];
  }
  if (c.toolchainFrom === 'clangd' || c.toolchainFrom === 'goroot') {
    const dir = c.toolchainFrom === 'clangd' ? clangdToolchainDir() : await goRoot();
    return dir ? [resolveToolchain(dir, { configured: config.toolchains })] : [];
  }
  const toolchains: ResolvedToolchain[] = [];
  for (const dir of await cargoDirs(folders)) {
    const found = whichToolchain(dir);
    if (!found) continue;
    noteActive(found, dir);
    toolchains.push(found.toolchain);
  }
  return unique(toolchains);
}

/** The unit for a coordinated entry, by how it is steered: commands, its exported API, or restart only. */
function coordinatedUnit(
  c: CoordinatedConfig,
  toolchains: readonly Toolchain[],
  log: Logger,
): ServerUnit {
  switch (coordinatedMode(c)) {
    case 'commands': {
      const startsStopped =
        c.initializeStoppedSetting !== undefined && ownerWaitsForUs(c.initializeStoppedSetting);
      const serverPath =
        c.serverPathSetting !== undefined ? ownerPath(c.serverPathSetting) : undefined;
      return new CoordinatedServer(c as CommandsConfig, toolchains, {
        log,
        startsStopped,
        ...(serverPath ? { serverPath } : {}),
      });
    }
    case 'api':
      return new ApiServer(c, toolchains, log);
    case 'restart':
      return new RestartOnlyServer(
        { ...c, restartCommand: c.restartCommand ?? '' },
        toolchains,
        log,
      );
  }
}

/** Resolves every configured server (and the presets that apply) to a unit. Never throws. */
export async function buildUnits(config: Config, deps: UnitDeps): Promise<BuiltUnits> {
  const folders = localFolders();
  const cwd = folders[0];
  const units: ServerUnit[] = [];
  const problems: Bilingual[] = [];
  const missing = missingCollector();
  for (const s of config.servers) {
    try {
      const active = s.toolchain === undefined && cwd ? whichToolchain(cwd) : null;
      if (active && cwd) missing.note(active, cwd, s.id);
      const toolchain =
        s.toolchain !== undefined
          ? fromSetting(s.toolchain, config, cwd)
          : (active?.toolchain ?? null);
      if (s.toolchain !== undefined && toolchain)
        missing.note({ toolchain, source: 'setting', sourceFile: null }, cwd ?? os.homedir(), s.id);
      if (!toolchain) {
        problems.push(
          bilingual((l10n) =>
            cwd
              ? l10n.t(
                  'Server {0}: no "toolchain" is set and no rustup toolchain is active in {1}. Set "toolchain" in toolchainLock.servers.',
                  s.id,
                  cwd,
                )
              : l10n.t(
                  'Server {0}: no "toolchain" is set and no folder is open. Set "toolchain" in toolchainLock.servers.',
                  s.id,
                ),
          ),
        );
        continue;
      }
      units.push(
        new ManagedServer(s, displayToolchain(toolchain), {
          log: deps.log,
          output: deps.output,
          cwd,
          stopTimeoutMs: deps.stopTimeoutMs,
        }),
      );
    } catch (err) {
      problems.push(bilingual((l10n) => l10n.t('Server {0}: {1}', s.id, message(err))));
    }
  }
  for (const c of config.coordinatedExtensions) {
    if (!vscode.extensions.getExtension(c.extensionId)) continue;
    try {
      const id = coordinatedId(c.extensionId);
      const toolchains = await coordinatedToolchains(c, config, folders, (found, dir) =>
        missing.note(found, dir, id),
      );
      if (toolchains.length === 0) {
        deps.log.info(
          `${c.extensionId}: ${c.toolchainFrom === 'clangd' ? 'no clangd (clangd.path, PATH) found' : c.toolchainFrom === 'goroot' ? 'no Go toolchain (go env GOROOT) found' : 'no Cargo project or active rustup toolchain in this workspace'}; not coordinating it`,
        );
        continue;
      }
      units.push(coordinatedUnit(c, toolchains.map(displayToolchain), deps.log));
    } catch (err) {
      // The resolver's own words, in English like the lock engine's.
      const text = `${coordinatedId(c.extensionId)}: ${message(err)}`;
      problems.push({ english: text, shown: text });
    }
  }
  return { units, problems, missing: missing.list() };
}
