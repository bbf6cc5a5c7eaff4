// The context keys package.json's `when` clauses read: set only when a value changes.
import * as vscode from 'vscode';

/** Every key this extension sets, with what it means. */
export const CONTEXT_KEYS = {
  /** This window has something to show: a toolchain its servers use, a missing one, or locking cannot work. */
  relevant: 'toolchainLock.relevant',
  /** The native lock module cannot load here: updates are refused. */
  unavailable: 'toolchainLock.unavailable',
  /** A toolchain this window's servers need is not installed. */
  missingToolchain: 'toolchainLock.missingToolchain',
  /** An update log exists (from this window or an earlier one). */
  hasUpdateLog: 'toolchainLock.hasUpdateLog',
} as const;

export class ContextKeys {
  private readonly values = new Map<string, boolean>();

  constructor(private readonly onError: (message: string) => void) {}

  set(key: (typeof CONTEXT_KEYS)[keyof typeof CONTEXT_KEYS], value: boolean): void {
    if (this.values.get(key) === value) return;
    this.values.set(key, value);
    vscode.commands
      .executeCommand('setContext', key, value)
      .then(undefined, (err: unknown) => this.onError(`cannot set ${key}: ${String(err)}`));
  }
}
