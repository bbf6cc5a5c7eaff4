// Status bar rendering is a pure function of state: deterministic text, tooltip and background.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bundleForFile } from './extension-harness.mjs';

const r = bundleForFile('render', "export * from './src/extension/view/render';");

const holder = (over = {}) => ({
  mode: 'read',
  state: 'held',
  pid: 100,
  host: 'vm',
  user: 'u',
  client: 'vscode',
  command: ['Code window', 'proj'],
  purpose: 'language servers: rust-analyzer',
  since: '2026-01-01T10:00:00.000Z',
  liveness: 'alive',
  foreign: false,
  self: false,
  recordId: 'abc',
  children: [],
  ...over,
});
const tc = (over = {}) => ({
  toolchain: { name: 'stable', path: '/home/u/.rustup/toolchains/stable-x86_64-unknown-linux-gnu' },
  key: 'stable-x86_64-unknown-linux-gnu-0123456789ab',
  state: 'holding',
  since: 1000,
  writer: null,
  blockers: [],
  error: null,
  units: [{ id: 'rust-analyzer', wanted: true, running: true, failed: null, pid: undefined }],
  ...over,
});
const lock = (holders, over = {}) => ({
  key: 'stable-x86_64-unknown-linux-gnu-0123456789ab',
  toolchain: null,
  lockFile: '/l',
  gateFile: '/g',
  state: 'read',
  holders,
  writer: null,
  waiting: [],
  problems: [],
  unlocked: [],
  unlockedWriter: null,
  ...over,
});

test('holding: lock icon, toolchain and holder count; tooltip lists holders, marks this window, has the links', () => {
  const mine = holder({ self: true, pid: 1 });
  const other = holder({
    pid: 2,
    command: ['toolchain-lock', 'run', 'cargo', 'build'],
    purpose: null,
  });
  const v = r.module.renderStatus({
    toolchains: [tc()],
    locks: new Map([[tc().key, lock([mine, other])]]),
    unavailable: null,
    now: 2000,
  });
  assert.equal(v.text, '$(lock) stable (2)');
  assert.equal(v.background, 'none');
  assert.match(v.tooltip, /\*\*stable\*\* — held for read by this window and 1 other holder/);
  assert.match(
    v.tooltip,
    /- reader · Code window proj · pid 1 · host vm · since 2026\\-01\\-01T10:00:00\\\.000Z · language servers: rust\\-analyzer · \*\*this window\*\*/,
  );
  assert.match(v.tooltip, /- reader · toolchain\\-lock run cargo build · pid 2/);
  assert.match(
    v.tooltip,
    /\[Update safely\]\(command:toolchainLock\.updateToolchain\?%5B%22%2Fhome%2Fu%2F\.rustup%2Ftoolchains%2Fstable-x86_64-unknown-linux-gnu%22%5D\) · \[Show locks\]\(command:toolchainLock\.showLocks\) · \[Open log\]\(command:toolchainLock\.openLog\)/,
  );
  assert.match(v.tooltip, /Servers: rust\\-analyzer \(running\)/);
  // Deterministic: the same state renders the same.
  assert.deepEqual(
    r.module.renderStatus({
      toolchains: [tc()],
      locks: new Map([[tc().key, lock([mine, other])]]),
      unavailable: null,
      now: 2000,
    }),
    v,
  );
});

test('pending update: spinning icon, by whom; warning background only once it waits long', () => {
  const writer = holder({
    mode: 'write',
    state: 'waiting',
    pid: 4242,
    command: ['rustup', 'update', 'stable'],
    client: 'cli',
    purpose: null,
  });
  const t = tc({
    state: 'pending',
    writer,
    since: 1000,
    units: [{ id: 'rust-analyzer', wanted: true, running: false, failed: null }],
  });
  const v = r.module.renderStatus({
    toolchains: [t],
    locks: new Map([[t.key, lock([], { state: 'update-pending', writer, waiting: [writer] })]]),
    unavailable: null,
    now: 2000,
  });
  assert.equal(v.text, '$(sync~spin) stable: update pending (rustup, pid 4242)');
  assert.equal(v.background, 'none');
  assert.equal(v.rerenderInMs, r.module.BLOCKED_LONG_MS - 1000);
  assert.match(v.tooltip, /pending writer: update pending · rustup update stable · pid 4242/);
  const later = r.module.renderStatus({
    toolchains: [t],
    locks: new Map(),
    unavailable: null,
    now: 1000 + r.module.BLOCKED_LONG_MS,
  });
  assert.equal(later.background, 'warning');
  const active = r.module.renderStatus({
    toolchains: [tc({ state: 'pending', writer: { ...writer, state: 'held' } })],
    locks: new Map(),
    unavailable: null,
    now: 2000,
  });
  assert.equal(active.text, '$(sync~spin) stable: updating (rustup, pid 4242)');
  // The lock directory's newer view of the writer wins over the one the window stepped aside for.
  const held = { ...writer, state: 'held' };
  const live = r.module.renderStatus({
    toolchains: [t],
    locks: new Map([[t.key, lock([held], { state: 'write', writer: held })]]),
    unavailable: null,
    now: 2000,
  });
  assert.equal(live.text, '$(sync~spin) stable: updating (rustup, pid 4242)');
});

test('several toolchains, own update, errors and failed servers', () => {
  const nightly = tc({
    toolchain: { name: 'nightly', path: '/n' },
    key: 'nightly-0123456789ab',
    state: 'updating',
  });
  const v = r.module.renderStatus({
    toolchains: [tc(), nightly],
    locks: new Map(),
    unavailable: null,
    now: 2000,
  });
  assert.equal(v.text, '$(sync~spin) nightly: updating, stable (1)');
  const failed = r.module.renderStatus({
    toolchains: [
      tc({ units: [{ id: 'x', wanted: true, running: false, failed: 'spawn x ENOENT' }] }),
    ],
    locks: new Map(),
    unavailable: null,
    now: 2000,
  });
  assert.equal(failed.text, '$(warning) stable (1)');
  assert.equal(failed.background, 'warning');
  assert.match(failed.tooltip, /x \(failed: spawn x ENOENT\)/);
  const error = r.module.renderStatus({
    toolchains: [tc({ state: 'error', error: 'lock dir unsafe' })],
    locks: new Map(),
    unavailable: null,
    now: 2000,
  });
  assert.equal(error.text, '$(warning) stable: not locked');
  assert.equal(error.background, 'warning');
  const none = r.module.renderStatus({
    toolchains: [],
    locks: new Map(),
    unavailable: null,
    now: 0,
  });
  assert.equal(none.text, '$(lock) no toolchain');
});

test('native module unavailable: said plainly, error background', () => {
  const v = r.module.renderStatus({
    toolchains: [tc()],
    locks: new Map(),
    unavailable: 'there is no native lock module for linux-riscv64',
    now: 0,
  });
  assert.equal(v.text, '$(error) Toolchain Lock: unavailable');
  assert.equal(v.background, 'error');
  assert.match(v.tooltip, /there is no native lock module for linux\\-riscv64/);
});

test('holder text cannot inject links or markup', () => {
  const evil = holder({
    command: ['[x](command:workbench.action.terminal.sendSequence)', '**b**'],
    host: '<img>',
  });
  const v = r.module.renderStatus({
    toolchains: [tc()],
    locks: new Map([[tc().key, lock([evil])]]),
    unavailable: null,
    now: 0,
  });
  assert.doesNotMatch(v.tooltip, /\]\(command:workbench/);
  assert.match(v.tooltip, /\\\[x\\\]\\\(command:workbench\\\.action/);
  assert.deepEqual([...r.module.TOOLTIP_COMMANDS].sort(), [
    'toolchainLock.openLog',
    'toolchainLock.showLocks',
    'toolchainLock.updateToolchain',
  ]);
  for (const m of v.tooltip.matchAll(/\]\(command:([^?)]+)/g))
    assert.ok(r.module.TOOLTIP_COMMANDS.includes(m[1]), m[1]);
});

test('a change without a lock: spinning, who writes; the tooltip says so and lists programs running without a lock', () => {
  const writer = {
    pid: 4300,
    command: ['/home/u/.cargo/bin/rustup', 'update', 'stable'],
    exe: '/home/u/.cargo/bin/rustup',
    user: 'u',
    since: '2026-01-01T10:00:00.000Z',
    evidence: 'rustup',
  };
  const t = tc({
    unlockedChange: { writer },
    units: [{ id: 'rust-analyzer', wanted: true, running: false, failed: null }],
  });
  const unlocked = [
    {
      pid: 777,
      command: ['/home/u/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/bin/cargo', 'build'],
      exe: '/home/u/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/bin/cargo',
      since: '2026-01-01T09:00:00.000Z',
      user: 'u',
    },
  ];
  const v = r.module.renderStatus({
    toolchains: [t],
    locks: new Map(),
    unlocked: new Map([[t.key, unlocked]]),
    unavailable: null,
    now: 2000,
  });
  assert.equal(
    v.text,
    '$(sync~spin) stable: changed outside Toolchain Lock (rustup (pid 4300, user u))',
  );
  assert.match(
    v.tooltip,
    /\*\*stable\*\* — being changed outside Toolchain Lock; this window’s servers are stopped until it is over/,
  );
  assert.ok(
    v.tooltip.includes(
      '**Being changed outside Toolchain Lock by rustup \\(pid 4300, user u\\)**: this window’s servers stay stopped',
    ),
    v.tooltip,
  );
  assert.ok(
    v.tooltip.includes(
      'Running from it without a lock (an update would replace files under them):\n- /home/u/\\.rustup/toolchains/stable\\-x86\\_64\\-unknown\\-linux\\-gnu/bin/cargo · pid 777 · since 2026\\-01\\-01T09:00:00\\.000Z · user u',
    ),
    v.tooltip,
  );
  // Unnamed writer; and no change: nothing of it shows.
  const unnamed = r.module.renderStatus({
    toolchains: [tc({ unlockedChange: { writer: null } })],
    locks: new Map(),
    unavailable: null,
    now: 2000,
  });
  assert.equal(
    unnamed.text,
    '$(sync~spin) stable: changed outside Toolchain Lock (an unknown process)',
  );
  const quiet = r.module.renderStatus({
    toolchains: [tc({ unlockedChange: null })],
    locks: new Map(),
    unavailable: null,
    now: 2000,
  });
  assert.equal(quiet.text, '$(lock) stable (1)');
  assert.doesNotMatch(quiet.tooltip, /outside|without a lock/);
});
