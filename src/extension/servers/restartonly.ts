// A server of another extension that can only be restarted (vscode-go: `go.languageserver.restart`).
// It cannot be stopped for an update, so it keeps running while the toolchain changes, which the
// status bar, the Locks view and the notification say; after the update it is restarted onto the
// new toolchain.
import * as vscode from 'vscode';
import type { Toolchain } from '../../lock';
import type { CoordinatedConfig } from '../config';
import type { Logger, ServerUnit, UnitExit } from '../state';
import { coordinatedId } from './coordinated';

export class RestartOnlyServer implements ServerUnit {
  readonly owned = false;
  readonly pid = undefined;
  readonly restartOnly = true;
  readonly id: string;
  readonly signature: string;
  /** An update went by since it last (re)started: restart it onto the new toolchain. */
  private stale = false;

  constructor(
    private readonly config: CoordinatedConfig & { readonly restartCommand: string },
    readonly toolchains: readonly Toolchain[],
    private readonly log: Logger,
  ) {
    this.id = coordinatedId(config.extensionId);
    this.signature = JSON.stringify({ config, toolchains: toolchains.map((t) => t.path) });
  }

  isRunning(): boolean {
    return (
      !this.stale && vscode.extensions.getExtension(this.config.extensionId)?.isActive === true
    );
  }

  async stop(): Promise<void> {
    this.stale = true;
    this.log.warn(
      `server ${this.id}: ${this.config.extensionId} can only restart its server (${this.config.restartCommand}); it keeps running during the update and is restarted after it`,
    );
  }

  async start(): Promise<void> {
    if (!this.stale) return;
    await vscode.commands.executeCommand(this.config.restartCommand);
    this.stale = false;
  }

  async kill(): Promise<void> {
    this.stale = true;
  }

  onDidExit(_listener: (exit: UnitExit) => void): { dispose(): void } {
    return { dispose() {} };
  }
}
