// What the lock directory says about every toolchain, not just this window's: other windows, the
// CLI and plain flock show up here. The watch keeps it current; Ctx starts and stops it with the
// coordinator, so the view always belongs to the lock directory the locks are taken in.
import type * as vscode from 'vscode';
import { describeHolder, message, type Disposable } from '../../lock';
import { status, watch, type LockStatus } from '../../observe';
import { bilingual, type Bilingual } from '../l10n';

export class LockDirView {
  private watch: Disposable | undefined;
  private current = new Map<string, LockStatus>();

  constructor(
    private readonly source: {
      lockDir(): string;
      log: vscode.LogOutputChannel;
      /** The statuses changed: render them. */
      changed(): void;
      /** Something the user should hear about (Alerts.problem). */
      problem(problem: string | Bilingual): void;
    },
  ) {}

  get byKey(): ReadonlyMap<string, LockStatus> {
    return this.current;
  }

  start(lockDir: string, pollIntervalMs: number): void {
    const { log } = this.source;
    try {
      this.watch = watch({
        lockDir,
        pollIntervalMs,
        onEvent: (ev) => {
          // This window's own locks are in its log already, said by the coordinator.
          if (!ev.holder.self)
            log.info(
              `lock directory: ${ev.event} ${ev.toolchain?.name ?? ev.key} by ${describeHolder(ev.holder)}`,
            );
        },
        onStatus: (statuses) => {
          this.current = new Map(statuses.map((s) => [s.key, s]));
          this.source.changed();
        },
        onWarning: (m) => this.source.problem(m),
      });
    } catch (err) {
      this.source.problem(
        bilingual((l10n) =>
          l10n.t(
            "cannot watch the lock directory {0}; the status bar shows this window's own state only: {1}",
            lockDir,
            message(err),
          ),
        ),
      );
    }
  }

  /** Reads the lock directory once (Refresh in the Locks view); the watch keeps it current otherwise. */
  read(): void {
    try {
      this.current = new Map(status({ lockDir: this.source.lockDir() }).map((s) => [s.key, s]));
    } catch (err) {
      this.source.log.warn(
        `cannot read the lock directory ${this.source.lockDir()}: ${message(err)}`,
      );
    }
  }

  /** Stops listening; what it saw stays until `clear`, so the servers' stop still renders it. */
  stop(): void {
    this.watch?.dispose();
    this.watch = undefined;
  }

  clear(): void {
    this.current = new Map();
  }
}
