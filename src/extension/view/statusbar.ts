// The one status bar item, rendered from state by render.ts.
import * as vscode from 'vscode';
import { renderStatus, TOOLTIP_COMMANDS, type StatusInput } from './render';

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private timer: NodeJS.Timeout | undefined;
  private lastInput: (() => StatusInput) | undefined;

  constructor() {
    this.item = vscode.window.createStatusBarItem(
      'toolchainLock.status',
      vscode.StatusBarAlignment.Left,
      10,
    );
    this.item.name = 'Toolchain Lock';
    this.item.command = 'toolchainLock.showLocks';
    this.item.text = '$(lock) Toolchain Lock';
  }

  /** Shows or hides the item (toolchainLock.statusBar.show); it is rendered either way. */
  setVisible(visible: boolean): void {
    if (visible) this.item.show();
    else this.item.hide();
  }

  /** Renders now, and again when a wait turns "long" by itself. */
  render(input: () => StatusInput): void {
    this.lastInput = input;
    const view = renderStatus(input());
    this.item.text = view.text;
    const tooltip = new vscode.MarkdownString(view.tooltip, true);
    tooltip.isTrusted = { enabledCommands: [...TOOLTIP_COMMANDS] };
    this.item.tooltip = tooltip;
    this.item.backgroundColor =
      view.background === 'none'
        ? undefined
        : new vscode.ThemeColor(
            view.background === 'error'
              ? 'statusBarItem.errorBackground'
              : 'statusBarItem.warningBackground',
          );
    clearTimeout(this.timer);
    this.timer =
      view.rerenderInMs === null
        ? undefined
        : setTimeout(() => this.lastInput && this.render(this.lastInput), view.rerenderInMs + 50);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.item.dispose();
  }
}
