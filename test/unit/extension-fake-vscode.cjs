// A fake `vscode` module for the extension unit tests: the parts we use are real little objects the
// tests can inspect (`state`); anything else is a universal stub (callable, constructible, any
// property), enough for vscode-languageclient to load and run against a real server process.
'use strict';

const stub = new Proxy(function () {}, {
  get(_t, p) {
    if (p === 'then' || typeof p === 'symbol') return undefined;
    if (p === 'prototype') return {};
    if (p === 'dispose') return () => undefined;
    return stub;
  },
  apply: () => stub,
  construct: () => ({ dispose() {} }),
});

const state = {
  commands: new Map(),
  executed: [],
  statusItems: [],
  messages: [],
  progress: [],
  outputs: new Map(),
  config: {},
  globalConfig: {},
  /** Defaults as extensions' package.json (configurationDefaults included) give them. */
  defaultConfig: {},
  trusted: true,
  folders: [],
  extensions: new Map(),
  quickPick: null,
  clipboard: '',
  env: new Map(),
  /** setContext values by key. */
  context: new Map(),
  /** Tree views by id: { provider, view, changes }. */
  treeViews: new Map(),
  /** The l10n bundle in use (message → translation), as VS Code loads it for the display language. */
  l10nBundle: null,
};

class EventEmitter {
  constructor() {
    this.listeners = new Set();
    this.event = (l) => {
      this.listeners.add(l);
      return { dispose: () => this.listeners.delete(l) };
    };
  }
  fire(e) {
    for (const l of [...this.listeners]) l(e);
  }
  dispose() {
    this.listeners.clear();
  }
}
const emitters = {
  config: new EventEmitter(),
  trust: new EventEmitter(),
  folders: new EventEmitter(),
  extensions: new EventEmitter(),
};
const noEvent = () => ({ dispose() {} });

class Disposable {
  constructor(f) {
    this.f = f;
  }
  dispose() {
    this.f?.();
  }
  static from(...ds) {
    return new Disposable(() => ds.forEach((d) => d.dispose()));
  }
}
class ThemeColor {
  constructor(id) {
    this.id = id;
  }
}
class MarkdownString {
  constructor(value = '', supportThemeIcons = false) {
    this.value = value;
    this.supportThemeIcons = supportThemeIcons;
  }
}
class ThemeIcon {
  constructor(id) {
    this.id = id;
  }
}
class TreeItem {
  constructor(label, collapsibleState = 0) {
    this.label = label;
    this.collapsibleState = collapsibleState;
  }
}

/** vscode.l10n.t: the bundle's translation if it has one, then {0}-style arguments filled in. */
function l10nT(...args) {
  const [first, ...rest] = args;
  const message = typeof first === 'string' ? first : first.message;
  const params = typeof first === 'string' ? rest : (first.args ?? []);
  const template = state.l10nBundle?.[message] ?? message;
  return template.replace(/\{(\d+)\}/g, (m, i) =>
    params[i] === undefined ? m : String(params[i]),
  );
}

class CancellationTokenSource {
  constructor() {
    const e = new EventEmitter();
    this.token = { isCancellationRequested: false, onCancellationRequested: e.event };
    this.cancel = () => {
      this.token.isCancellationRequested = true;
      e.fire();
    };
  }
  dispose() {}
}
class Uri {
  constructor(fsPath) {
    this.fsPath = fsPath;
    this.path = fsPath;
    this.scheme = 'file';
  }
  static file(p) {
    return new Uri(p);
  }
  static parse(s) {
    return new Uri(s.replace(/^file:\/\//, ''));
  }
  toString() {
    return `file://${this.fsPath}`;
  }
}

function outputChannel(name, log) {
  const ch = {
    name,
    lines: [],
    text: '',
    append(t) {
      ch.text += t;
    },
    appendLine(t) {
      ch.text += `${t}\n`;
      ch.lines.push(t);
    },
    replace(t) {
      ch.text = t;
    },
    clear() {
      ch.text = '';
    },
    show() {
      ch.shown = true;
    },
    hide() {},
    dispose() {
      ch.disposed = true;
    },
    onDidChangeLogLevel: noEvent,
    logLevel: 2,
  };
  if (log)
    for (const level of ['trace', 'debug', 'info', 'warn', 'error'])
      ch[level] = (m) => ch.lines.push(`${level} ${m}`);
  state.outputs.set(name, ch);
  return ch;
}

function message(kind) {
  return (text, ...rest) => {
    const items = rest.filter((r) => typeof r === 'string');
    const m = { kind, text, items, choose: null };
    state.messages.push(m);
    return new Promise((resolve) => (m.choose = resolve));
  };
}

function configuration(section) {
  const get = (key) => {
    const full = `${section}.${key}`;
    return full in state.config
      ? state.config[full]
      : full in state.globalConfig
        ? state.globalConfig[full]
        : state.defaultConfig[full];
  };
  return {
    get: (key, fallback) => get(key) ?? fallback,
    has: (key) => get(key) !== undefined,
    inspect: (key) => ({
      key,
      globalValue: state.globalConfig[`${section}.${key}`],
      workspaceValue: state.config[`${section}.${key}`],
      defaultValue: state.defaultConfig[`${section}.${key}`],
    }),
    // As a user's "Don't show again" would: into User settings, with a change event.
    update: async (key, value) => {
      state.globalConfig[`${section}.${key}`] = value;
      emitters.config.fire({
        affectsConfiguration: (s) =>
          `${section}.${key}` === s || `${section}.${key}`.startsWith(`${s}.`),
      });
    },
  };
}

const api = {
  version: '1.100.0',
  state,
  emitters,
  EventEmitter,
  Disposable,
  ThemeColor,
  MarkdownString,
  CancellationTokenSource,
  CancellationError: class CancellationError extends Error {},
  Uri,
  StatusBarAlignment: { Left: 1, Right: 2 },
  ThemeIcon,
  TreeItem,
  TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
  l10n: { t: l10nT, bundle: undefined, uri: undefined },
  ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  env: {
    appName: 'Fake Code',
    language: 'en',
    clipboard: {
      writeText: async (t) => void (state.clipboard = t),
      readText: async () => state.clipboard,
    },
    openExternal: async () => true,
  },
  commands: {
    registerCommand(id, f) {
      // As in VS Code: a command id can be registered once.
      if (state.commands.has(id)) throw new Error(`command '${id}' already exists`);
      state.commands.set(id, f);
      return { dispose: () => state.commands.delete(id) };
    },
    async executeCommand(id, ...args) {
      state.executed.push(id);
      if (id === 'setContext') return void state.context.set(args[0], args[1]);
      const f = state.commands.get(id);
      if (!f) throw new Error(`command '${id}' not found`);
      return f(...args);
    },
    getCommands: async () => [...state.commands.keys()],
  },
  window: {
    createOutputChannel: (name, options) =>
      outputChannel(name, typeof options === 'object' && options?.log),
    createStatusBarItem(id, alignment, priority) {
      const item = {
        id,
        alignment,
        priority,
        text: '',
        tooltip: undefined,
        visible: false,
        show() {
          item.visible = true;
        },
        hide() {
          item.visible = false;
        },
        dispose() {
          item.disposed = true;
        },
      };
      state.statusItems.push(item);
      return item;
    },
    showInformationMessage: message('info'),
    showWarningMessage: message('warning'),
    showErrorMessage: message('error'),
    setStatusBarMessage: (text) => (
      state.messages.push({ kind: 'statusbar', text }),
      { dispose() {} }
    ),
    async showQuickPick(items, options) {
      const resolved = await items;
      state.lastQuickPick = { items: resolved, options };
      const pick = state.quickPick;
      return typeof pick === 'function' ? pick(resolved, options) : undefined;
    },
    async withProgress(options, task) {
      const source = new CancellationTokenSource();
      const p = { options, reports: [], done: false, cancel: () => source.cancel() };
      state.progress.push(p);
      try {
        return await task({ report: (r) => p.reports.push(r) }, source.token);
      } finally {
        p.done = true;
      }
    },
    createTreeView(id, options) {
      const entry = { provider: options.treeDataProvider, changes: 0, disposed: false };
      const sub = entry.provider.onDidChangeTreeData?.(() => entry.changes++);
      entry.view = {
        visible: true,
        dispose() {
          entry.disposed = true;
          sub?.dispose();
        },
      };
      state.treeViews.set(id, entry);
      return entry.view;
    },
    showTextDocument: async () => undefined,
    onDidChangeActiveTextEditor: noEvent,
    onDidChangeVisibleTextEditors: noEvent,
    visibleTextEditors: [],
    activeTextEditor: undefined,
  },
  workspace: {
    get isTrusted() {
      return state.trusted;
    },
    get workspaceFolders() {
      return state.folders.length
        ? state.folders.map((f, index) => ({ uri: Uri.file(f), name: f.split('/').pop(), index }))
        : undefined;
    },
    get name() {
      return state.folders.length ? state.folders[0].split('/').pop() : undefined;
    },
    textDocuments: [],
    getConfiguration: configuration,
    onDidChangeConfiguration: emitters.config.event,
    onDidGrantWorkspaceTrust: emitters.trust.event,
    onDidChangeWorkspaceFolders: emitters.folders.event,
    onDidOpenTextDocument: noEvent,
    onDidCloseTextDocument: noEvent,
    onDidChangeTextDocument: noEvent,
    onDidSaveTextDocument: noEvent,
    onWillSaveTextDocument: noEvent,
    createFileSystemWatcher: () => ({
      onDidCreate: noEvent,
      onDidChange: noEvent,
      onDidDelete: noEvent,
      dispose() {},
    }),
    findFiles: async () => [],
    applyEdit: async () => true,
    getWorkspaceFolder: () => undefined,
  },
  languages: {
    createDiagnosticCollection: (name) => ({
      name,
      set() {},
      delete() {},
      clear() {},
      forEach() {},
      get() {},
      has: () => false,
      dispose() {},
    }),
    match: () => 0,
  },
  extensions: {
    getExtension: (id) => state.extensions.get(id),
    get all() {
      return [...state.extensions.values()];
    },
    onDidChange: emitters.extensions.event,
  },
};

module.exports = new Proxy(api, {
  get: (t, p) => (p in t ? t[p] : typeof p === 'symbol' ? undefined : stub),
});
