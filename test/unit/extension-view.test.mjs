// The Toolchain Locks view, the context keys of the `when` clauses, toolchainLock.statusBar.show,
// the step-aside notification's "Don't show again", and localization (package.nls.json, a
// pseudo-locale l10n bundle). The whole extension under the fake `vscode`; lock, rustup home and
// writer processes are real.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  activateFor,
  bundleForFile,
  extensionForFile,
  fakeServerPath,
  item,
  log,
  repoRoot,
  rustAnalyzerCommands,
  spawnWriter,
  stableRustup,
  until,
  vscode,
  windowWorld,
} from './extension-harness.mjs';

const { state } = vscode;

const ext = extensionForFile();
const tree = bundleForFile('locktree', "export * from './src/extension/view/locktree';");

/** A rustup home with `stable`, optionally a Cargo project pinned to it and rust-analyzer "installed". */
function world(t, { rust = true } = {}) {
  const w = windowWorld(t);
  const { stable } = stableRustup(t, w.root, w.project, { rust });
  const ra = rust ? rustAnalyzerCommands() : { calls: [] };
  return { ...w, stable, ra };
}

const view = () => state.treeViews.get('toolchainLock.locks');
const rows = () => view().provider.getChildren();

const activate = (t, w, what = 'read lock acquired stable') => activateFor(t, ext, w.context, what);

const holder = (over = {}) => ({
  mode: 'read',
  state: 'held',
  pid: 100,
  host: 'vm',
  user: 'u',
  client: 'vscode',
  command: ['Code window', 'proj'],
  purpose: null,
  since: '2026-01-01T10:00:00.000Z',
  liveness: 'alive',
  foreign: false,
  self: false,
  recordId: 'abc',
  children: [],
  ...over,
});
const KEY = 'stable-0123456789ab';
const snapshot = (over = {}) => ({
  toolchain: { name: 'stable', path: '/r/toolchains/stable' },
  key: KEY,
  state: 'holding',
  since: 0,
  writer: null,
  blockers: [],
  error: null,
  units: [
    {
      id: 'rust-analyzer',
      owned: false,
      wanted: true,
      running: true,
      failed: null,
      pid: undefined,
    },
  ],
  ...over,
});
const lockOf = (holders, over = {}) => ({
  key: KEY,
  toolchain: { name: 'stable', path: '/r/toolchains/stable' },
  lockFile: '/l',
  gateFile: '/g',
  state: 'read',
  holders,
  writer: null,
  waiting: [],
  problems: [],
  ...over,
});
const input = (over = {}) => ({
  toolchains: [snapshot()],
  locks: new Map(),
  unavailable: null,
  now: 0,
  missing: [],
  updatable: new Set([KEY]),
  withUpdateLog: new Set(),
  ...over,
});

test('lockTree: toolchain → writer, waiting, holders, servers; each row says program, pid, since and which party', () => {
  const mine = holder({ self: true, pid: 1 });
  const cli = holder({ pid: 2, client: 'cli', command: ['/usr/bin/cargo', 'build'] });
  const other = holder({ pid: 3, command: ['Code window', 'other-project'] });
  const writer = holder({
    pid: 4,
    mode: 'write',
    state: 'waiting',
    client: 'cli',
    command: ['rustup', 'update', 'stable'],
    children: [],
  });
  const queued = holder({
    pid: 5,
    mode: 'write',
    state: 'waiting',
    client: 'cli',
    command: ['rustup', 'component', 'add', 'clippy'],
  });
  const pending = input({
    toolchains: [snapshot()],
    locks: new Map([
      [
        KEY,
        lockOf([mine, cli, other], {
          state: 'update-pending',
          writer,
          waiting: [writer, queued],
        }),
      ],
    ]),
    withUpdateLog: new Set(['stable']),
  });
  const [row] = tree.module.lockTree(pending);
  assert.equal(row.label, 'stable');
  assert.equal(row.description, 'held for read by this window and 2 other holders');
  assert.deepEqual(row.context, ['toolchain', 'updatable', 'updateLog']);
  assert.deepEqual(row.toolchain, { name: 'stable', path: '/r/toolchains/stable' });
  const kids = row.children.map((c) => [
    c.context[0],
    c.label,
    c.description.replace(/since [^·]+ · /, 'since T · '),
  ]);
  assert.deepEqual(kids, [
    ['writer', 'rustup', 'update waiting · pid 4 · since T · terminal or script (toolchain-lock)'],
    ['writer', 'rustup', 'update waiting · pid 5 · since T · terminal or script (toolchain-lock)'],
    ['holder', 'Code window', 'reading · pid 1 · since T · this window'],
    ['holder', 'cargo', 'reading · pid 2 · since T · terminal or script (toolchain-lock)'],
    ['holder', 'Code window', 'reading · pid 3 · since T · window other-project'],
    ['server', 'rust-analyzer', 'running'],
  ]);
  // Copy details: the lock as "Show locks" describes it, plus this window's servers.
  assert.match(row.details, /^stable: update pending\n {2}directory: \/r\/toolchains\/stable/);
  assert.match(row.details, /pending writer: rustup update stable \(pid 4/);
  assert.match(row.details, /server rust-analyzer: running/);
  // Ids are stable across renders (the tree keeps what the user expanded) and unique.
  const ids = [row.id, ...row.children.map((c) => c.id)];
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual(tree.module.lockTree(pending)[0].id, row.id);
});

test('lockTree: a missing toolchain offers Install; an updating toolchain no Update; unavailable is one row', () => {
  const rowsOf = tree.module.lockTree(
    input({
      toolchains: [snapshot({ state: 'updating' })],
      missing: [{ name: '1.80.0', path: '/r/toolchains/1.80.0-x', why: 'rust-analyzer' }],
    }),
  );
  assert.deepEqual(
    rowsOf.map((r) => [r.label, r.description, r.context]),
    [
      ['stable', 'being updated from this window', ['toolchain']],
      ['1.80.0', 'not installed', ['missing']],
    ],
  );
  assert.equal(rowsOf[0].icon, 'sync~spin');
  const broken = tree.module.lockTree(input({ unavailable: 'no binary for linux-riscv64' }));
  assert.deepEqual(
    broken.map((r) => [r.label, r.context]),
    [['Locking is unavailable in this editor', ['unavailable']]],
  );
  // Each kind of row is one function of CHILD_KINDS.
  assert.equal(tree.module.CHILD_KINDS.length, 5);
});

test('lockTree: programs running from the toolchain without a lock are rows of their own (LockStatus.unlocked)', () => {
  const unlocked = [
    {
      pid: 777,
      command: ['/r/toolchains/stable/bin/cargo', 'build'],
      exe: '/r/toolchains/stable/bin/cargo',
      since: '2026-01-01T09:00:00.000Z',
      user: 'u',
    },
  ];
  const [row] = tree.module.lockTree(
    input({ locks: new Map([[KEY, lockOf([holder({ self: true, pid: 1 })], { unlocked })]]) }),
  );
  const kids = row.children.filter((c) => c.context.includes('unlocked'));
  assert.deepEqual(
    kids.map((c) => [c.label, c.description.replace(/since [^·]+ · /, 'since T · ')]),
    [['cargo', 'running without a lock · pid 777 · since T · u']],
  );
  assert.match(kids[0].tooltip, /^\/r\/toolchains\/stable\/bin\/cargo build\n/);
  assert.match(
    kids[0].details,
    /without a lock: \/r\/toolchains\/stable\/bin\/cargo \(pid 777, since 2026-01-01T09:00:00.000Z, user u\)/,
  );
  // None without the field (a status read without the process table).
  const [plain] = tree.module.lockTree(
    input({ locks: new Map([[KEY, lockOf([holder({ self: true, pid: 1 })])]]) }),
  );
  assert.equal(plain.children.filter((c) => c.context.includes('unlocked')).length, 0);
});

test('a Rust window: view and status bar live from one state; context keys; commands take a view row', async (t) => {
  const w = world(t);
  await activate(t, w);
  await until(
    () =>
      rows().length === 1 && rows()[0].children.some((c) => c.description.includes('this window')),
    `rows: ${JSON.stringify(rows())}`,
  );
  assert.equal(state.context.get('toolchainLock.relevant'), true);
  assert.equal(state.context.get('toolchainLock.unavailable'), false);
  assert.equal(state.context.get('toolchainLock.missingToolchain'), false);
  assert.equal(state.context.get('toolchainLock.hasUpdateLog'), false);
  assert.equal(item().visible, true);
  const [row] = rows();
  assert.equal(row.label, 'stable');
  assert.ok(row.context.includes('updatable'));
  const treeItem = view().provider.getTreeItem(row);
  assert.equal(treeItem.contextValue, 'toolchain updatable');
  assert.equal(treeItem.iconPath.id, 'lock');
  assert.equal(treeItem.id, row.id);

  // Idle: no redraw without a change (the view never polls; it is told).
  const changes = view().changes;
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(view().changes, changes);

  // Another party's update: the view shows the writer, then goes back; one redraw per change.
  const writer = spawnWriter(t, ext.file, w.lockDir, { name: 'stable', path: w.stable });
  await writer.next('acquired');
  await until(
    () =>
      rows()[0].children.some(
        (c) => c.context.includes('writer') && /^updating · pid \d+/.test(c.description),
      ),
    `writer row: ${JSON.stringify(rows())}`,
  );
  assert.match(item().text, /^\$\(sync~spin\) stable: updating/);
  writer.release();
  await until(
    () =>
      !rows()[0].children.some((c) => c.context.includes('writer')) &&
      item().text === '$(lock) stable (1)',
    `back: ${item().text}`,
  );

  // Copy details from a row.
  await state.commands.get('toolchainLock.copyDetails')(rows()[0]);
  assert.match(state.clipboard, /^stable: held for read\n {2}directory: /);
  assert.match(state.clipboard, /reader: .*\[this window\]/);
  // Update safely from a row runs for that toolchain: no quick pick.
  state.quickPick = () => assert.fail('no quick pick for a row');
  state.globalConfig['toolchainLock.toolchains'] = [
    { name: 'stable', path: w.stable, updateCommand: [process.execPath, '-e', 'process.exit(0)'] },
  ];
  vscode.emitters.config.fire({ affectsConfiguration: () => true });
  assert.equal(await state.commands.get('toolchainLock.updateToolchain')(rows()[0]), true);
  await until(
    () => state.context.get('toolchainLock.hasUpdateLog') === true,
    'an update log exists',
  );
  await until(
    () => rows()[0]?.context.includes('updateLog'),
    `the row offers its output: ${JSON.stringify(rows()[0]?.context)}`,
  );
});

test('a window without a toolchain stays quiet: no status bar item, view hidden by its when clause; statusBar.show always/never', async (t) => {
  const w = world(t, { rust: false });
  await activate(t, w, 'servers: none');
  await until(() => state.context.get('toolchainLock.relevant') === false, 'relevant=false');
  assert.equal(item().visible, false);
  assert.deepEqual(rows(), []);
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  assert.equal(
    pkg.contributes.views.explorer.find((v) => v.id === 'toolchainLock.locks').when,
    'toolchainLock.relevant',
  );
  const palette = Object.fromEntries(
    pkg.contributes.menus.commandPalette.map((m) => [m.command, m.when]),
  );
  assert.equal(palette['toolchainLock.installToolchain'], 'toolchainLock.missingToolchain');
  assert.equal(palette['toolchainLock.openUpdateLog'], 'toolchainLock.hasUpdateLog');
  assert.equal(state.context.get('toolchainLock.missingToolchain'), false);

  state.globalConfig['toolchainLock.statusBar.show'] = 'always';
  vscode.emitters.config.fire({ affectsConfiguration: () => true });
  await until(() => item().visible === true, 'shown with "always"');
  assert.equal(item().text, '$(lock) no toolchain');
  state.globalConfig['toolchainLock.statusBar.show'] = 'never';
  vscode.emitters.config.fire({ affectsConfiguration: () => true });
  await until(() => item().visible === false, 'hidden with "never"');
});

test('statusBar.show "never" hides the item in a Rust window too; the view still shows', async (t) => {
  const w = world(t);
  state.globalConfig['toolchainLock.statusBar.show'] = 'never';
  await activate(t, w);
  await until(() => rows().length === 1, 'a row');
  assert.equal(item().visible, false);
  assert.equal(state.context.get('toolchainLock.relevant'), true);
});

test('"Don\'t Show Again" on the step-aside notification sets the setting; the next update shows only in status bar and view', async (t) => {
  const w = world(t);
  await activate(t, w);
  const first = spawnWriter(t, ext.file, w.lockDir, { name: 'stable', path: w.stable });
  await first.next('acquired');
  await until(
    () => state.messages.some((m) => /is being updated/.test(m.text)),
    'the notification',
  );
  const note = state.messages.find((m) => /is being updated/.test(m.text));
  note.choose('Don’t Show Again');
  await until(
    () => state.globalConfig['toolchainLock.notifications.serverStopped'] === false,
    'the setting written to User settings',
  );
  first.release();
  await until(() => w.ra.calls.length === 2, 'restart');
  const second = spawnWriter(t, ext.file, w.lockDir, { name: 'stable', path: w.stable });
  await second.next('acquired');
  await until(
    () => w.ra.calls.length === 3 && rows()[0].children.some((c) => c.context.includes('writer')),
    'stopped again, shown in the view',
  );
  assert.match(item().text, /^\$\(sync~spin\) stable/);
  assert.equal(
    state.messages.filter((m) => /is being updated/.test(m.text)).length,
    1,
    'no second notification',
  );
  second.release();
  await until(() => w.ra.calls.length === 4, 'restart');
});

test('localizable: every contribution string is in package.nls.json; the l10n bundle is up to date', () => {
  const pkgText = fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8');
  const nls = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.nls.json'), 'utf8'));
  const used = [...pkgText.matchAll(/"%([^%"]+)%"/g)].map((m) => m[1]);
  assert.ok(used.length > 40);
  for (const key of used) assert.ok(key in nls, `package.nls.json has ${key}`);
  for (const key of Object.keys(nls)) assert.ok(used.includes(key), `package.json uses ${key}`);
  const pkg = JSON.parse(pkgText);
  for (const c of pkg.contributes.commands)
    assert.match(c.title, /^%.+%$/, `${c.command} title is localizable`);
  assert.equal(pkg.l10n, './l10n');
  const r = spawnSync(
    process.execPath,
    [path.join(repoRoot, 'scripts', 'l10n-bundle.mjs'), '--check'],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
});

/** What a translator delivers as l10n/bundle.l10n.qps-ploc.json: every message, placeholders kept. */
function usePseudoLocale() {
  const english = JSON.parse(
    fs.readFileSync(path.join(repoRoot, 'l10n', 'bundle.l10n.json'), 'utf8'),
  );
  state.l10nBundle = Object.fromEntries(
    Object.entries(english).map(([k, v]) => [
      k,
      `⟦${v.replace(/[a-z]/g, (c) => c.toUpperCase())}⟧`,
    ]),
  );
}

test('a pseudo-locale bundle translates the view, the status bar tooltip words and the notification with no code change', async (t) => {
  usePseudoLocale();
  const w = world(t);
  await activate(t, w);
  await until(() => rows().length === 1 && rows()[0].children.length >= 2, 'rows');
  const [row] = rows();
  assert.equal(row.description, '⟦HELD FOR READ BY THIS WINDOW⟧');
  await until(
    () => item().tooltip?.value.includes('**stable** — ⟦HELD FOR READ BY THIS WINDOW⟧'),
    `tooltip: ${item().tooltip?.value}`,
  );
  const mine = row.children.find((c) => c.context.includes('holder'));
  assert.match(mine.description, /^⟦READING⟧ · ⟦PID \d+⟧ · ⟦SINCE .+⟧ · ⟦THIS WINDOW⟧$/);
  // The tooltip's holder line, servers and links.
  const tip = item().tooltip.value;
  assert.match(tip, /- ⟦READER⟧ · .* · ⟦PID \d+⟧ · ⟦HOST .+⟧ · .*\*\*⟦THIS WINDOW⟧\*\*/);
  assert.match(tip, /⟦SERVERS: rust\\-analyzer \(⟦RUNNING⟧\)⟧/);
  assert.match(tip, /\[⟦UPDATE SAFELY⟧\]\(command:toolchainLock\.updateToolchain\?/);
  assert.match(tip, /\[⟦SHOW LOCKS⟧\]\(command:toolchainLock\.showLocks\)/);
  assert.match(tip, /\[⟦OPEN LOG⟧\]\(command:toolchainLock\.openLog\)/);
  const writer = spawnWriter(t, ext.file, w.lockDir, { name: 'stable', path: w.stable });
  await writer.next('acquired');
  await until(
    () =>
      state.messages.some((m) =>
        m.text.startsWith('⟦TOOLCHAIN stable IS BEING UPDATED BY “rustup update stable”'),
      ),
    `notification: ${JSON.stringify(state.messages.map((m) => m.text))}`,
  );
  const note = state.messages.find((m) => m.text.startsWith('⟦TOOLCHAIN'));
  assert.match(
    note.text,
    /^⟦TOOLCHAIN stable IS BEING UPDATED BY “rustup update stable” \(PID \d+\); rust-analyzer WILL RESTART WHEN IT FINISHES⟧$/,
  );
  assert.deepEqual(note.items, ['⟦SHOW LOCKS⟧', '⟦DON’T SHOW AGAIN⟧']);
  writer.release();
  await until(() => w.ra.calls.length === 2, 'restart');
  // Commands' messages and pickers too.
  await state.commands.get('toolchainLock.openUpdateLog')();
  assert.equal(state.messages.at(-1).text, '⟦NO UPDATE HAS RUN FROM VS CODE YET.⟧');
  state.quickPick = () => undefined;
  await state.commands.get('toolchainLock.updateToolchain')();
  assert.equal(state.lastQuickPick.options.title, '⟦UPDATE TOOLCHAIN SAFELY⟧');
  assert.equal(state.lastQuickPick.options.placeHolder, '⟦WHICH TOOLCHAIN?⟧');
  assert.equal(
    state.lastQuickPick.items[0].description,
    '⟦HELD FOR READ BY 1⟧ · ⟦USED BY THIS WINDOW⟧',
  );
  await state.commands.get('toolchainLock.showLocks')();
  const [lock] = state.lastQuickPick.items;
  assert.equal(lock.description, '⟦HELD FOR READ⟧ · ⟦1 HOLDER⟧');
  assert.match(lock.detail, /^⟦⟦READER⟧: .* \(THIS WINDOW\)⟧$/);
});

test('a pseudo-locale bundle translates the install offer and the failure notifications, buttons included; the log stays English', async (t) => {
  usePseudoLocale();
  const w = world(t, { rust: false });
  state.globalConfig['toolchainLock.servers'] = [
    // rustup's nightly, which this rustup home does not have: the install offer.
    { id: 'pinned-ls', toolchain: 'nightly', command: process.execPath, args: [fakeServerPath] },
    // A command that cannot start: the failure notification (alerts.ts), with Retry.
    { id: 'broken-ls', toolchain: 'stable', command: path.join(w.root, 'no-such-server') },
  ];
  // A settings problem (alerts.ts): the notification around it and its own words.
  state.globalConfig['toolchainLock.unlockedProcesses'] = 'bogus';
  await activate(t, w, 'servers: ');
  const problem = state.messages.find((m) => m.text.includes('UNLOCKEDPROCESSES'));
  assert.equal(
    problem?.text,
    '⟦TOOLCHAIN LOCK: ⟦TOOLCHAINLOCK.UNLOCKEDPROCESSES MUST BE "WAIT", "PROCEED" OR "FAIL", NOT "bogus"; USING "WAIT".⟧⟧',
    JSON.stringify(state.messages.map((m) => m.text)),
  );
  assert.deepEqual(problem.items, ['⟦OPEN LOG⟧']);
  // What the terminal's environment hover says.
  assert.match(
    w.context.environmentVariableCollection.description,
    /^⟦PUTS `TOOLCHAIN-LOCK` \(THE TOOLCHAIN LOCK CLI BUNDLED WITH THE EXTENSION\) ON PATH/,
  );
  assert.ok(
    log().some((l) =>
      l.includes(
        'toolchainLock.unlockedProcesses must be "wait", "proceed" or "fail", not "bogus"; using "wait".',
      ),
    ),
  );
  await until(
    () => state.messages.some((m) => m.text.startsWith('⟦TOOLCHAIN nightly')),
    `offer: ${JSON.stringify(state.messages.map((m) => m.text))}`,
  );
  const offer = state.messages.find((m) => m.text.startsWith('⟦TOOLCHAIN nightly'));
  assert.equal(
    offer.text,
    '⟦TOOLCHAIN nightly IS NOT INSTALLED: ⟦THE TOOLCHAINLOCK SETTINGS NAME IT⟧, AND pinned-ls NEEDS IT.⟧',
  );
  assert.deepEqual(offer.items, ['⟦INSTALL TOOLCHAIN⟧', '⟦OPEN LOG⟧']);
  assert.ok(
    log().some((l) =>
      l.includes(
        'Toolchain nightly is not installed: the toolchainLock settings name it, and pinned-ls needs it.',
      ),
    ),
    log().join('\n'),
  );
  const failures = () => state.messages.filter((m) => m.text.startsWith('⟦broken-ls'));
  await until(
    () => failures().length === 1,
    `failure: ${JSON.stringify(state.messages.map((m) => m.text))}`,
  );
  const [failure] = failures();
  assert.equal(failure.kind, 'error');
  assert.match(failure.text, /^⟦broken-ls IS NOT RUNNING ON TOOLCHAIN stable\S*: .+⟧$/s);
  assert.deepEqual(failure.items, ['⟦OPEN LOG⟧', '⟦RETRY⟧']);
  // The translated label is the one compared: Retry starts it again, and it fails again.
  failure.choose('⟦RETRY⟧');
  await until(() => failures().length === 2, 'retried');
  failures()[1].choose('⟦OPEN LOG⟧');
  await until(() => state.outputs.get('Toolchain Lock').shown, 'the log opened');
});

test('Getting started: four steps, each with its shipped page and commands that exist', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const nls = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.nls.json'), 'utf8'));
  const [walk] = pkg.contributes.walkthroughs;
  assert.deepEqual(
    walk.steps.map((s) => s.id),
    ['servers', 'update', 'shims', 'cli'],
  );
  const ours = new Set(pkg.contributes.commands.map((c) => c.command));
  const ignore = fs.readFileSync(path.join(repoRoot, '.vscodeignore'), 'utf8');
  for (const step of walk.steps) {
    const page = path.join(repoRoot, step.media.markdown);
    assert.ok(fs.existsSync(page), `${step.media.markdown} exists`);
    assert.match(ignore, /!media\/walkthrough\/\*\.md/, 'the pages are shipped');
    const description = nls[step.description.slice(1, -1)];
    for (const [, id] of description.matchAll(/\(command:([\w.]+)/g)) {
      assert.ok(
        ours.has(id) || id === 'toolchainLock.locks.focus' || id.startsWith('workbench.action.'),
        `${step.id}: command ${id}`,
      );
    }
  }
  // The shims step names the setting and the CLI commands as they are specified (issue 16).
  const shims = fs.readFileSync(path.join(repoRoot, 'media', 'walkthrough', 'shims.md'), 'utf8');
  for (const s of [
    'toolchainLock.terminalShims',
    'toolchain-lock shims install',
    'toolchain-lock shell-init bash',
  ])
    assert.ok(shims.includes(s), s);
});
