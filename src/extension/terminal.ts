// The integrated terminals' environment: the bundled CLI on PATH, and the lock directory and
// toolchains this window uses, so `toolchain-lock update NAME` there means what the editor means.
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { message } from '../lock';
import { TOOLCHAINS_ENV } from '../toolchains';
import type { Config } from './config';
import { installLauncher } from './launcher';


export class TerminalEnvironment {
  /** The launcher's directory once installed; null when it cannot be. */
  private bin: string | null | undefined;

  constructor(
    private readonly extension: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Rewrites every variable from `config`; called on start and on every settings change. */
  apply(config: Config): void {
    const env = this.extension.environmentVariableCollection;
    env.clear();
    env.description = 'Puts `toolchain-lock` (the Toolchain Lock CLI bundled with the extension) on PATH';
    const bin = this.launcher();
    if (bin) env.prepend('PATH', bin + path.delimiter);
    if (config.lockDir) env.replace('TOOLCHAIN_LOCK_DIR', config.lockDir);
    if (config.toolchains.length > 0) env.replace(TOOLCHAINS_ENV, JSON.stringify(config.toolchains));
  }

  private launcher(): string | null {
    if (this.bin !== undefined) return this.bin;
    try {
      this.bin = installLauncher(this.extension.globalStorageUri.fsPath, process.execPath, path.join(this.extension.extensionPath, 'dist', 'cli.js'));
      this.log.info(`terminal PATH gets ${this.bin}`);
    } catch (err) {
      this.bin = null;
      this.log.warn(`cannot install the toolchain-lock launcher: ${message(err)}`);
    }
    return this.bin;
  }
}
