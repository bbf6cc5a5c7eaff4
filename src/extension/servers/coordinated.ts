// A language server owned by another extension (rust-analyzer by default): we only ask it to stop
// and start through its commands, and hold the read lock while that extension is active.
import * as vscode from 'vscode';
import type { Toolchain } from '../../lock';
import type { CommandsConfig } from '../config';
import type { Logger } from '../lockstate';
import type { ServerUnit, UnitExit } from './unit';

/** The id shown in logs and notifications: `rust-analyzer` for `rust-lang.rust-analyzer`. */
export function coordinatedId(extensionId: string): string {
  const dot = extensionId.indexOf('.');
  return dot >= 0 ? extensionId.slice(dot + 1) : extensionId;
}

export class CoordinatedServer implements ServerUnit {
  readonly owned = false;
  readonly pid = undefined;
  readonly id: string;
  readonly signature: string;
  /** We stopped it and have not started it since. */
  private stoppedByUs = false;

  constructor(
    private readonly config: CommandsConfig,
    readonly toolchains: readonly Toolchain[],
    private readonly log: Logger,
  ) {
    this.id = coordinatedId(config.extensionId);
    this.signature = JSON.stringify({ config, toolchains: toolchains.map((t) => t.path) });
  }

  isRunning(): boolean {
    return !this.stoppedByUs && vscode.extensions.getExtension(this.config.extensionId)?.isActive === true;
  }

  async start(): Promise<void> {
    await vscode.commands.executeCommand(this.config.startCommand);
    this.stoppedByUs = false;
  }

  async stop(): Promise<void> {
    await vscode.commands.executeCommand(this.config.stopCommand);
    this.stoppedByUs = true;
  }

  async kill(): Promise<void> {
    // Its process belongs to the other extension; all we can do is say so.
    this.stoppedByUs = true;
    this.log.warn(`server ${this.id}: ${this.config.stopCommand} did not finish in time; the server of ${this.config.extensionId} may still be running`);
  }

  onDidExit(_listener: (exit: UnitExit) => void): { dispose(): void } {
    return { dispose() {} };
  }
}
