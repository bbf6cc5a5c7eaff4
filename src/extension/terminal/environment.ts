// The integrated terminals' environment: the bundled CLI on PATH, the shims ahead of rustup (plain
// cargo, rustc and rustup take the lock), and the lock directory and toolchains this window uses,
// so `toolchain-lock update NAME` there means what the editor means.
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { message } from '../../lock';
import {
  findRustup,
  installShims,
  rustupPrograms,
  SHIM_DIR_ENV,
  TOOLCHAINS_ENV,
} from '../../toolchains';
import type { Config } from '../config';
import { l10n } from '../l10n';
import { installLauncher } from './launcher';

export class TerminalEnvironment {
  /** The launcher's directory once installed; null when it cannot be. */
  private bin: string | null | undefined;
  /** The shim directory once written this session; null when it cannot be. */
  private shims: string | null | undefined;

  constructor(
    private readonly extension: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Rewrites every variable from `config`; called on start and on every settings change. */
  apply(config: Config): void {
    const env = this.extension.environmentVariableCollection;
    env.clear();
    const bin = this.launcher();
    const shims = config.terminalShims ? this.shimDir() : null;
    env.description = shims
      ? l10n.t(
          'Puts `toolchain-lock` (the Toolchain Lock CLI bundled with the extension) on PATH, and its shims first, so plain cargo, rustc and rustup take the toolchain lock',
        )
      : l10n.t('Puts `toolchain-lock` (the Toolchain Lock CLI bundled with the extension) on PATH');
    const front = [shims, bin].filter((d): d is string => d !== null);
    if (front.length > 0) env.prepend('PATH', front.map((d) => d + path.delimiter).join(''));
    // `toolchain-lock shims dir` and `shell-init` in these terminals then speak of these shims.
    if (shims) env.replace(SHIM_DIR_ENV, shims);
    if (config.lockDir) env.replace('TOOLCHAIN_LOCK_DIR', config.lockDir);
    if (config.toolchains.length > 0)
      env.replace(TOOLCHAINS_ENV, JSON.stringify(config.toolchains));
  }

  /**
   * Writes (or refreshes: the bundled CLI moves with each extension update) the shims in this
   * extension's storage, run by the editor's own runtime. Null without a rustup to shim.
   */
  private shimDir(): string | null {
    if (this.shims !== undefined) return this.shims;
    const dir = path.join(this.extension.globalStorageUri.fsPath, 'shims');
    try {
      const rustup = findRustup(dir);
      const runtime = {
        node: process.execPath,
        cli: path.join(this.extension.extensionPath, 'dist', 'cli.js'),
        electron: process.versions.electron !== undefined,
      };
      const written = installShims(dir, rustupPrograms(rustup), runtime);
      this.shims = written.dir;
      this.log.info(
        `terminal PATH gets the shims for ${rustup} in ${written.dir}: ${written.programs.join(', ')}`,
      );
    } catch (err) {
      this.shims = null;
      this.log.warn(`no shims in the terminals: ${message(err)}`);
    }
    return this.shims;
  }

  private launcher(): string | null {
    if (this.bin !== undefined) return this.bin;
    try {
      this.bin = installLauncher(
        this.extension.globalStorageUri.fsPath,
        process.execPath,
        path.join(this.extension.extensionPath, 'dist', 'cli.js'),
      );
      this.log.info(`terminal PATH gets ${this.bin}`);
    } catch (err) {
      this.bin = null;
      this.log.warn(`cannot install the toolchain-lock launcher: ${message(err)}`);
    }
    return this.bin;
  }
}
