// The Toolchain Locks view: a TreeDataProvider over lockTree(). It is told when the state changes
// (Ctx.render, the same call that renders the status bar) and never looks by itself.
import * as vscode from 'vscode';
import { lockTree, type LockNode, type TreeInput } from './locktree';

export const LOCKS_VIEW = 'toolchainLock.locks';

export class LocksView implements vscode.TreeDataProvider<LockNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<LockNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<LockNode>;
  private roots: readonly LockNode[] = [];
  private shown = '';

  constructor() {
    this.view = vscode.window.createTreeView(LOCKS_VIEW, {
      treeDataProvider: this,
      showCollapseAll: true,
    });
  }

  /** Takes the new state; the tree is redrawn only when what it shows changed. */
  update(input: TreeInput): void {
    const roots = lockTree(input);
    const shown = JSON.stringify(roots);
    if (shown === this.shown) return;
    this.shown = shown;
    this.roots = roots;
    this.changed.fire(undefined);
  }

  /** The rows as they are now (for tests and Copy details). */
  nodes(): readonly LockNode[] {
    return this.roots;
  }

  getChildren(node?: LockNode): LockNode[] {
    return [...(node ? node.children : this.roots)];
  }

  getTreeItem(node: LockNode): vscode.TreeItem {
    const item = new vscode.TreeItem(
      node.label,
      node.children.length === 0
        ? vscode.TreeItemCollapsibleState.None
        : vscode.TreeItemCollapsibleState.Expanded,
    );
    item.id = node.id;
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.iconPath = new vscode.ThemeIcon(node.icon);
    item.contextValue = node.context.join(' ');
    return item;
  }

  dispose(): void {
    this.view.dispose();
    this.changed.dispose();
  }
}

/** A command's argument from a view row (the node) or from a caller (a name or path), as a string. */
export function toolchainArgument(arg: unknown, field: 'name' | 'path'): string | undefined {
  if (typeof arg === 'string') return arg === '' ? undefined : arg;
  if (typeof arg === 'object' && arg !== null && 'toolchain' in arg) {
    const t = (arg as LockNode).toolchain;
    return t?.[field];
  }
  return undefined;
}
