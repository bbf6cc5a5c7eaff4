// A server of another extension stopped and started through the language clients its API exports:
// vscode-clangd's `activate` returns { getApi(1): { languageClient } } (newer versions also
// getApi(2).getAllLanguageClients()); each is a vscode-languageclient client with stop()/start().
import * as vscode from 'vscode';
import type { Toolchain } from '../../lock';
import type { CoordinatedConfig } from '../config';
import type { Logger, ServerUnit, UnitExit } from '../state';
import { coordinatedId } from './coordinated';

/** The part of a vscode-languageclient client we use. `state` 2 is State.Running. */
interface ExportedClient {
  readonly state?: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

interface ClangdLikeApi {
  getApi(
    version: number,
  ):
    { languageClient?: ExportedClient; getAllLanguageClients?: () => ExportedClient[] } | undefined;
}

const RUNNING = 2;

function isClient(c: unknown): c is ExportedClient {
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof (c as ExportedClient).stop === 'function' &&
    typeof (c as ExportedClient).start === 'function'
  );
}

/** The clients the extension exports now (none when it is not active or exports nothing usable). */
function exportedClients(exports: unknown): ExportedClient[] {
  const api = exports as Partial<ClangdLikeApi> | undefined;
  if (typeof api?.getApi !== 'function') return [];
  for (const version of [2, 1]) {
    let v;
    try {
      v = api.getApi(version);
    } catch {
      continue; // an older version: no such API version
    }
    const all =
      typeof v?.getAllLanguageClients === 'function'
        ? v.getAllLanguageClients()
        : [v?.languageClient];
    const clients = all.filter(isClient);
    if (clients.length > 0) return clients;
  }
  return [];
}

export class ApiServer implements ServerUnit {
  readonly owned = false;
  readonly pid = undefined;
  readonly id: string;
  readonly signature: string;
  /** The clients we stopped, to start exactly those again. */
  private stopped: ExportedClient[] = [];

  constructor(
    private readonly config: CoordinatedConfig,
    readonly toolchains: readonly Toolchain[],
    private readonly log: Logger,
  ) {
    this.id = coordinatedId(config.extensionId);
    this.signature = JSON.stringify({ config, toolchains: toolchains.map((t) => t.path) });
  }

  private clients(): ExportedClient[] {
    const ext = vscode.extensions.getExtension(this.config.extensionId);
    return ext?.isActive ? exportedClients(ext.exports) : [];
  }

  isRunning(): boolean {
    return (
      this.stopped.length === 0 &&
      this.clients().some((c) => c.state === undefined || c.state === RUNNING)
    );
  }

  async stop(): Promise<void> {
    const running = this.clients().filter((c) => c.state === undefined || c.state === RUNNING);
    this.stopped = running;
    await Promise.all(running.map((c) => c.stop()));
  }

  async start(): Promise<void> {
    const clients =
      this.stopped.length > 0 ? this.stopped : this.clients().filter((c) => c.state !== RUNNING);
    await Promise.all(clients.map((c) => c.start()));
    this.stopped = [];
  }

  async kill(): Promise<void> {
    // The process is the other extension's client's; all we can do is say so.
    this.log.warn(
      `server ${this.id}: its language client did not stop in time; the server of ${this.config.extensionId} may still be running`,
    );
  }

  onDidExit(_listener: (exit: UnitExit) => void): { dispose(): void } {
    return { dispose() {} };
  }
}
