// The extension's entry points. Everything lives in the one Ctx of this window.
import type * as vscode from 'vscode';
import { Ctx } from './ctx';

let ctx: Ctx | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const current = new Ctx(context);
  ctx = current;
  // Cheap activation: the real work starts once activate has returned.
  setImmediate(() => {
    current
      .start()
      .catch((err: unknown) =>
        current.log.error(
          `start failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        ),
      );
  });
}

/** Stops the managed servers and releases every lock before the window goes. */
export async function deactivate(): Promise<void> {
  const current = ctx;
  ctx = undefined;
  await current?.dispose();
}
