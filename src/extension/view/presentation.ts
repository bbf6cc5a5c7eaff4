// Everything a window shows from its state, rendered in one call: the status bar item, the
// Toolchain Locks view and the context keys of the `when` clauses. Ctx.render() calls it on every
// change of the locks or the servers; nothing here looks by itself.
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { toolchainKey } from '../../lock';
import type { LockStatus, UnlockedProcess } from '../../observe';
import { resolveToolchain, type ConfiguredToolchain } from '../../toolchains';
import type { Config } from '../config';
import { CONTEXT_KEYS, ContextKeys } from './contextkeys';
import type { ToolchainSnapshot } from '../state';
import { LocksView } from './locksview';
import type { TreeInput } from './locktree';
import type { MissingToolchain } from '../servers';
import { StatusBar } from './statusbar';
import { defaultUpdateOf, updateLogs, updateLogStem } from '../actions';

export interface WindowState {
  readonly toolchains: readonly ToolchainSnapshot[];
  readonly locks: ReadonlyMap<string, LockStatus>;
  /** Programs running from the toolchains without a lock, by key (unlocked-changes.ts looks now and then). */
  readonly unlocked: ReadonlyMap<string, readonly UnlockedProcess[]>;
  readonly unavailable: string | null;
  readonly missing: readonly MissingToolchain[];
  readonly config: Config;
  readonly updateLogDir: string;
}

/** The stem of the toolchain name an update log file was written for (newUpdateLog: STEM-STAMP.log). */
export function updateLogToolchain(file: string): string {
  return path.basename(file).replace(/-\d{4}-\d\d-\d\dT[\d-]+Z\.log$/, '');
}

export class Presentation implements vscode.Disposable {
  readonly statusBar = new StatusBar();
  readonly view = new LocksView();
  private readonly keys: ContextKeys;
  /** Whether a toolchain (by key) has an update command; settings changes clear it. */
  private readonly updatable = new Map<string, boolean>();
  private configured: readonly ConfiguredToolchain[] = [];

  constructor(log: vscode.LogOutputChannel) {
    this.keys = new ContextKeys((m) => log.warn(m));
  }

  render(state: WindowState): void {
    // The lock directory's watch leaves the process table out (too costly per event): the view's
    // `unlocked` rows come from the periodic look, in the LockStatus field they belong to.
    const locks = new Map(
      [...state.locks].map(([key, s]) => [
        key,
        { ...s, unlocked: state.unlocked.get(key) ?? s.unlocked },
      ]),
    );
    const input = () => ({
      toolchains: state.toolchains,
      locks,
      unlocked: state.unlocked,
      unavailable: state.unavailable,
      now: Date.now(),
    });
    const relevant =
      state.unavailable !== null || state.toolchains.length > 0 || state.missing.length > 0;
    const show = state.config.statusBarShow;
    this.statusBar.render(input);
    this.statusBar.setVisible(show === 'always' || (show === 'whenRelevant' && relevant));
    const logs = updateLogs(state.updateLogDir);
    const stems = new Set(logs.map(updateLogToolchain));
    const tree: TreeInput = {
      ...input(),
      missing: state.missing.map((m) => ({
        name: m.shown.name,
        path: m.toolchain.path,
        why: m.units.join(', '),
      })),
      updatable: new Set(
        state.toolchains.filter((t) => this.canUpdate(t, state.config)).map((t) => t.key),
      ),
      withUpdateLog: new Set(
        state.toolchains.map((t) => t.toolchain.name).filter((n) => stems.has(updateLogStem(n))),
      ),
    };
    this.view.update(tree);
    this.keys.set(CONTEXT_KEYS.relevant, relevant);
    this.keys.set(CONTEXT_KEYS.unavailable, state.unavailable !== null);
    this.keys.set(CONTEXT_KEYS.missingToolchain, state.missing.length > 0);
    this.keys.set(CONTEXT_KEYS.hasUpdateLog, logs.length > 0);
  }

  private canUpdate(t: ToolchainSnapshot, config: Config): boolean {
    if (this.configured !== config.toolchains) {
      this.configured = config.toolchains;
      this.updatable.clear();
    }
    let known = this.updatable.get(t.key);
    if (known === undefined) {
      // By name first: a configured toolchain's update command belongs to its name, not its path.
      known = [t.toolchain.name, t.toolchain.path].some((name) => {
        try {
          const resolved = resolveToolchain(name, { configured: config.toolchains });
          return toolchainKey(resolved.path) === t.key && defaultUpdateOf(resolved) !== undefined;
        } catch {
          return false;
        }
      });
      this.updatable.set(t.key, known);
    }
    return known;
  }

  dispose(): void {
    this.statusBar.dispose();
    this.view.dispose();
  }
}
