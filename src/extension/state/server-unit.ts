// What the lock state machine needs from a language server, whoever owns it. No `vscode` here:
// the state machine is tested under plain Node with fake units.
import type { Toolchain } from '../../lock';

/** Why a server went away without being asked to. */
export interface UnitExit {
  /** True when nobody will restart it (the client gave up, or it cannot be restarted). */
  readonly final: boolean;
  readonly message: string;
  /** Its owner stopped it on purpose (the user's "Stop server"): not a failure, and it stays stopped. */
  readonly byOwner?: boolean;
}

/** One language server this window runs (managed) or steers (coordinated). */
export interface ServerUnit {
  /** Stable id, used in log lines (`server <id> started pid=N`). */
  readonly id: string;
  /** Every toolchain it runs from; it may run only while this window holds all of them for read. */
  readonly toolchains: readonly Toolchain[];
  /** True for servers this extension started and must stop when it is done with them. */
  readonly owned: boolean;
  /** True for a server that can only be restarted: it keeps running during an update. */
  readonly restartOnly?: boolean;
  /** Its main process, when known. */
  readonly pid: number | undefined;
  /** True when the server is up or coming up. */
  isRunning(): boolean;
  /** Starts it; `env` marks its processes as running under this window's read lock. */
  start(env: Readonly<Record<string, string>>): Promise<void>;
  /** Asks it to stop gracefully; resolves once its process is gone. */
  stop(): Promise<void>;
  /** Ends it by force (the process tree), resolving once it is gone or cannot be ended. */
  kill(): Promise<void>;
  /** Changes whenever its configuration does; a unit with the same id and signature is the same server. */
  readonly signature: string;
  /** Reports exits nobody asked for (crashes, its owner's stop). */
  onDidExit(listener: (exit: UnitExit) => void): { dispose(): void };
  /** Another extension's server whose owner waits for our start instead of starting it at activation. */
  readonly startsStopped?: boolean;
  /** Reports starts nobody here asked for (another extension's server, restarted by the user or its owner). */
  onDidStart?(listener: () => void): { dispose(): void };
}

/** Tiny mutex: runs tasks one after another, whatever each of them throws. */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
