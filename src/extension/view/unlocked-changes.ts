// What the lock cannot stop, as this window shows it: a toolchain changed without a write lock
// (one notification while it lasts), and programs running from its toolchains without a lock
// (looked up now and then for the tooltip; the process table is too costly to read on every event).
import * as vscode from 'vscode';
import { message, type Toolchain } from '../../lock';
import { describeUnlockedWriter, status, type UnlockedProcess } from '../../observe';
import type { UnlockedChangeInfo } from '../state';

/** One notification for the whole change; it closes when the change is over and the servers are back. */
export function announceUnlockedChange(info: UnlockedChangeInfo): () => void {
  const who = info.writer
    ? describeUnlockedWriter(info.writer)
    : vscode.l10n.t('a process that could not be named');
  const title =
    info.units.length > 0
      ? vscode.l10n.t(
          '{0} is being changed outside Toolchain Lock by {1}; {2} stopped and will restart when it is over',
          info.toolchain.name,
          who,
          info.units.join(', '),
        )
      : vscode.l10n.t(
          '{0} is being changed outside Toolchain Lock by {1}',
          info.toolchain.name,
          who,
        );
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: false },
    () => done,
  );
  return finish;
}

/** How often the tooltip's list of programs without a lock is refreshed. */
export const UNLOCKED_REFRESH_MS = 15_000;

/** Keeps the programs running from this window's toolchains without a lock, by key. */
export class UnlockedObserver implements vscode.Disposable {
  private timer: NodeJS.Timeout | undefined;
  private current = new Map<string, readonly UnlockedProcess[]>();
  private lastText = '';

  constructor(
    private readonly source: {
      lockDir(): string;
      toolchains(): readonly Toolchain[];
      changed(): void;
      warn(message: string): void;
    },
  ) {
    this.timer = setInterval(() => this.refresh(), UNLOCKED_REFRESH_MS);
    this.timer.unref?.();
  }

  get byKey(): ReadonlyMap<string, readonly UnlockedProcess[]> {
    return this.current;
  }

  refresh(): void {
    const toolchains = this.source.toolchains();
    if (toolchains.length === 0) return;
    try {
      const next = new Map(
        status({ lockDir: this.source.lockDir(), toolchains }).map(
          (s) => [s.key, s.unlocked] as const,
        ),
      );
      const text = JSON.stringify([...next]);
      this.current = next;
      if (text !== this.lastText) {
        this.lastText = text;
        this.source.changed();
      }
    } catch (err) {
      this.source.warn(`cannot look for programs running without a lock: ${message(err)}`);
    }
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}
