// The whole extension under a fake `vscode` (everything else real: lock, toolchains, processes):
// activation, the rust-analyzer preset with zero configuration, commands, status bar, terminal
// environment, trust, "Update toolchain safely", and deactivate.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { copyProcMacroServer, pidsOf, SRV_ENV } from '../fixtures/toolchain-copy.mjs';
import {
  cleanup,
  activateFor,
  bundle,
  extensionForFile,
  fakeVscodePath,
  hostTriple,
  item,
  logHas,
  recordingEnvironment,
  repoRoot,
  rustAnalyzerCommands,
  sleep,
  spawnWriter,
  stableRustup,
  until,
  vscode,
  windowWorld,
} from './extension-harness.mjs';

const { state } = vscode;
const triple = hostTriple;

const ext = extensionForFile();

/** A rustup home with `stable`, a Cargo project pinned to it, and rust-analyzer "installed". */
function world(t) {
  const env = recordingEnvironment();
  const w = windowWorld(t, { env });
  const { rustupHome, stable } = stableRustup(t, w.root, w.project);
  const ra = rustAnalyzerCommands();
  return { ...w, rustupHome, stable, ra, env };
}

const activate = (t, w) => activateFor(t, ext, w.context, 'read lock acquired stable');

test('zero configuration: rust-analyzer + a Cargo folder → read lock on its rustup toolchain; status bar; commands; terminal PATH', async (t) => {
  const w = world(t);
  await activate(t, w);
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const contributed = pkg.contributes.commands.map((c) => c.command).sort();
  for (const id of contributed) assert.ok(state.commands.has(id), `no handler for ${id}`);
  assert.deepEqual(contributed, [
    'toolchainLock.copyDetails',
    'toolchainLock.installToolchain',
    'toolchainLock.openLog',
    'toolchainLock.openSettings',
    'toolchainLock.openUpdateLog',
    'toolchainLock.refreshLocks',
    'toolchainLock.showLocks',
    'toolchainLock.updateToolchain',
  ]);
  await until(() => item().text === '$(lock) stable (1)', `status text, got ${item().text}`);
  assert.equal(item().name, 'Toolchain Lock');
  assert.equal(item().alignment, vscode.StatusBarAlignment.Left);
  assert.deepEqual(item().tooltip.isTrusted, {
    enabledCommands: [
      'toolchainLock.updateToolchain',
      'toolchainLock.showLocks',
      'toolchainLock.openLog',
    ],
  });
  // The holder list comes from the lock directory (engine watch), a moment after the lock.
  await until(
    () => /\*\*this window\*\*/.test(item().tooltip.value),
    `holders in the tooltip: ${item().tooltip.value}`,
  );
  const st = ext.module.engine.status({ lockDir: w.lockDir })[0];
  assert.equal(st.toolchain.path, fs.realpathSync(w.stable));
  assert.equal(st.holders[0].client, 'vscode');
  const [op] = w.env.ops.filter(([, k]) => k === 'PATH');
  assert.equal(op[0], 'prepend');
  // The launcher's directory, behind the shims' (extension-shims.test.mjs) when there is a rustup to shim.
  assert.ok(
    op[2].split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, 'toolchain-lock'))),
    op[2],
  );
  assert.deepEqual(
    w.env.ops.find(([, k]) => k === 'TOOLCHAIN_LOCK_DIR'),
    ['replace', 'TOOLCHAIN_LOCK_DIR', w.lockDir],
  );
  await state.commands.get('toolchainLock.openLog')();
  assert.equal(state.outputs.get('Toolchain Lock').shown, true);
});

test('a CLI update: rust-analyzer stopped through its command, one notification naming the writer, restarted after', async (t) => {
  const w = world(t);
  await activate(t, w);
  const writer = spawnWriter(t, ext.file, w.lockDir, { name: 'stable', path: w.stable });
  await writer.next('acquired');
  assert.deepEqual(w.ra.calls, ['stop']);
  await until(
    () => item().text.startsWith('$(sync~spin) stable: '),
    `spinning status, got ${item().text}`,
  );
  const note = state.messages.find((m) => /is being updated/.test(m.text));
  assert.equal(note.kind, 'info');
  assert.equal(
    note.text,
    `Toolchain stable is being updated by “rustup update stable” (pid ${writer.child.pid}); rust-analyzer will restart when it finishes`,
  );
  assert.deepEqual(note.items, ['Show Locks', 'Don’t Show Again']);
  // No progress notification that nobody can cancel.
  assert.equal(
    state.progress.filter(
      (p) =>
        p.options.location === vscode.ProgressLocation.Notification &&
        /is being updated/.test(p.options.title),
    ).length,
    0,
  );
  assert.ok(logHas(`update pending by rustup update stable (pid ${writer.child.pid}`));
  writer.release();
  await until(() => w.ra.calls.length === 2, 'restart');
  assert.deepEqual(w.ra.calls, ['stop', 'start']);
  await until(() => item().text === '$(lock) stable (1)', `status back, got ${item().text}`);
  assert.equal(state.messages.filter((m) => /is being updated/.test(m.text)).length, 1);
});

test('"Update toolchain safely" with a toolchain argument: stops, runs the command with live output, restarts', async (t) => {
  const w = world(t);
  const marker = path.join(w.root, 'updated');
  state.globalConfig['toolchainLock.toolchains'] = [
    {
      name: 'stable',
      rustup: 'stable',
      // The command reports the nesting marker and the lock file it inherited as fd 3.
      updateCommand: [
        process.execPath,
        '-e',
        `const fs = require('fs'); fs.writeFileSync(${JSON.stringify(marker)}, process.env.TOOLCHAIN_LOCK_WRITING + ' ' + fs.fstatSync(3).ino + ' ' + process.env.RUSTUP_AUTO_INSTALL); console.log('updating stable...')`,
      ],
    },
  ];
  await activate(t, w);
  assert.deepEqual(
    JSON.parse(w.env.ops.find(([, k]) => k === 'TOOLCHAIN_LOCK_TOOLCHAINS')[2]).map((c) => c.name),
    ['stable'],
    'the terminal knows the configured toolchains',
  );
  const ok = await state.commands.get('toolchainLock.updateToolchain')('stable');
  assert.equal(ok, true);
  const [writing, inode, autoInstall] = fs.readFileSync(marker, 'utf8').split(' ');
  assert.equal(
    autoInstall,
    '0',
    'rustup proxies under the update command never install a toolchain behind its back',
  );
  const key = ext.module.engine.toolchainKey(w.stable);
  assert.equal(writing, key, 'the update command runs with the nested-write marker');
  assert.equal(
    Number(inode),
    fs.statSync(path.join(w.lockDir, `${key}.lock`)).ino,
    'and holds the lock file, so the lock outlives the extension host',
  );
  assert.match(state.outputs.get('Toolchain Lock Update').text, /updating stable\.\.\./);
  assert.ok(logHas('write lock acquired stable'));
  await until(() => w.ra.calls.join() === 'stop,start', `ra calls ${w.ra.calls}`);
  const progress = state.progress.find((p) => p.options.title === 'Updating stable');
  assert.equal(progress.options.cancellable, true);
});

test('"Update toolchain safely" names the real proc-macro server running without a lock: "fail" stops, "wait" waits for it', async (t) => {
  const w = world(t);
  const srv = copyProcMacroServer(w.stable);
  // Started as from a terminal elsewhere: not a descendant of this process, which plays the
  // extension host (whose children count as covered by its write lock while it updates).
  spawnSync('sh', ['-c', `sleep 120 | ${JSON.stringify(srv)} >/dev/null 2>&1 &`], {
    env: { ...process.env, ...SRV_ENV },
    stdio: 'ignore',
  });
  await until(() => pidsOf(srv).length === 1, 'the proc-macro server to run');
  const server = { pid: pidsOf(srv)[0] };
  cleanup(t, () => pidsOf(srv).forEach((pid) => process.kill(pid, 'SIGKILL')));
  const marker = path.join(w.root, 'updated');
  state.globalConfig['toolchainLock.toolchains'] = [
    {
      name: 'stable',
      rustup: 'stable',
      updateCommand: [
        process.execPath,
        '-e',
        `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`,
      ],
    },
  ];
  state.globalConfig['toolchainLock.unlockedProcesses'] = 'fail';
  await activate(t, w);
  assert.equal(await state.commands.get('toolchainLock.updateToolchain')('stable'), false);
  const err = state.messages.find(
    (m) => m.kind === 'error' && m.text.startsWith('Updating stable failed'),
  );
  assert.ok(err, JSON.stringify(state.messages));
  assert.match(
    err.text,
    new RegExp(
      `Not updating: programs run from the toolchain without a lock .*rust-analyzer-proc-macro-srv \\(pid ${server.pid}, since \\S+, user \\S+\\)`,
    ),
  );
  assert.equal(fs.existsSync(marker), false, 'the update command did not run');
  assert.match(
    state.outputs.get('Toolchain Lock Update').text,
    new RegExp(`Running from the toolchain without a lock: stable: .*pid ${server.pid}`),
  );
  await until(() => w.ra.calls.join() === 'stop,start', 'servers back after the refusal');

  state.globalConfig['toolchainLock.unlockedProcesses'] = 'wait';
  state.globalConfig['toolchainLock.unlockedTimeout'] = 60_000;
  vscode.emitters.config.fire({
    affectsConfiguration: (k) => 'toolchainLock.unlockedProcesses'.startsWith(k),
  });
  const update = state.commands.get('toolchainLock.updateToolchain')('stable');
  await until(
    () =>
      state.progress.some((p) =>
        p.reports.some((r) =>
          /running without a lock: stable: .*waiting up to 60 s/.test(r.message ?? ''),
        ),
      ),
    'the progress names it',
  );
  assert.equal(fs.existsSync(marker), false);
  process.kill(server.pid, 'SIGTERM');
  assert.equal(await update, true);
  assert.equal(fs.existsSync(marker), true);
  assert.match(
    state.outputs.get('Toolchain Lock Update').text,
    /They have exited; the update starts\./,
  );
});

test('a failing update command: error with "Show output", lock released, servers back', async (t) => {
  const w = world(t);
  state.globalConfig['toolchainLock.toolchains'] = [
    {
      name: 'stable',
      rustup: 'stable',
      updateCommand: [process.execPath, '-e', 'console.error("network down"); process.exit(2)'],
    },
  ];
  await activate(t, w);
  assert.equal(await state.commands.get('toolchainLock.updateToolchain')('stable'), false);
  const err = state.messages.find(
    (m) => m.kind === 'error' && m.text.startsWith('Updating stable failed'),
  );
  assert.ok(err, JSON.stringify(state.messages));
  assert.deepEqual(err.items, ['Show output']);
  assert.match(state.outputs.get('Toolchain Lock Update').text, /network down/);
  await until(() => w.ra.calls.join() === 'stop,start', 'restart');
  const st = ext.module.engine.status({ lockDir: w.lockDir })[0];
  assert.equal(st.writer, null);
  assert.equal(st.holders.length, 1);
});

test('the quick pick lists known toolchains with their state', async (t) => {
  const w = world(t);
  fs.mkdirSync(path.join(w.rustupHome, 'toolchains', `nightly-${triple}`));
  await activate(t, w);
  let items;
  state.quickPick = (list) => ((items = list), undefined);
  await state.commands.get('toolchainLock.updateToolchain')();
  const stable = items.find((i) => i.label === `stable-${triple}`);
  assert.match(stable.description, /held for read by 1 · used by this window/);
  assert.ok(items.some((i) => i.label === `nightly-${triple}` && i.description === 'free'));
});

test('untrusted workspace: servers and toolchains from workspace settings are ignored, user ones count', async (t) => {
  const w = world(t);
  state.trusted = false;
  const evil = path.join(w.root, 'evil');
  state.config['toolchainLock.servers'] = [
    {
      id: 'evil',
      command: process.execPath,
      args: ['-e', `require('fs').writeFileSync(${JSON.stringify(evil)}, 'x')`],
      toolchain: 'stable',
    },
  ];
  state.config['toolchainLock.lockDir'] = path.join(w.root, 'workspace-locks');
  await activate(t, w);
  await sleep(300);
  assert.equal(fs.existsSync(evil), false);
  assert.ok(!logHas('evil'));
  assert.equal(fs.existsSync(path.join(w.root, 'workspace-locks')), false);
});

test('deactivate releases every lock', async (t) => {
  const w = world(t);
  ext.module.activate(w.context);
  await until(() => logHas('read lock acquired stable'), 'lock');
  await ext.module.deactivate();
  const st = ext.module.engine.status({ lockDir: w.lockDir });
  assert.deepEqual(
    st.map((s) => s.holders.length),
    [0],
  );
  assert.equal(item().disposed, true);
  assert.deepEqual(w.ra.calls, [], "another extension's server is left to it");
});

test('the native lock module cannot load: status bar and a notification say so, updates refuse, nothing crashes', async (t) => {
  const broken = await bundle(
    ext.dir,
    'extension-no-native',
    "export * from './src/extension/main';",
    { vscodeFake: fakeVscodePath, native: false },
  );
  const w = world(t);
  broken.module.activate(w.context);
  cleanup(t, () => broken.module.deactivate());
  await until(
    () => item()?.text === '$(error) Toolchain Lock: unavailable',
    `status: ${item()?.text}`,
  );
  await until(
    () =>
      state.messages.some(
        (m) =>
          m.kind === 'error' &&
          /cannot lock toolchains in this editor: Toolchain Lock cannot lock in Node .* on linux-x64: there is no native lock module for linux-x64/.test(
            m.text,
          ),
      ),
    'notification',
  );
  assert.equal(await state.commands.get('toolchainLock.updateToolchain')('stable'), false);
  assert.ok(state.messages.some((m) => m.kind === 'error' && /will not pretend/.test(m.text)));
  // The one disabled handler answers every command that changes toolchains.
  const refusals = state.messages.filter((m) => /will not pretend/.test(m.text)).length;
  assert.equal(await state.commands.get('toolchainLock.installToolchain')('1.80.0'), false);
  assert.equal(state.messages.filter((m) => /will not pretend/.test(m.text)).length, refusals + 1);
  // The palette hides "Update toolchain safely" (when: !toolchainLock.unavailable); the view says why.
  await until(() => state.context.get('toolchainLock.unavailable') === true, 'context key');
  assert.equal(
    state.treeViews.get('toolchainLock.locks').provider.getChildren()[0].label,
    'Locking is unavailable in this editor',
  );
  assert.deepEqual(w.ra.calls, [], 'rust-analyzer keeps running');
});

test('"Show who holds which lock" lists the locks and copies the details of one', async (t) => {
  const w = world(t);
  await activate(t, w);
  const picks = [];
  state.quickPick = (items, options) => {
    picks.push({ items, options });
    return picks.length === 1 ? items.find((i) => i.label.endsWith('stable')) : 'Copy details';
  };
  await state.commands.get('toolchainLock.showLocks')();
  assert.match(picks[0].items[0].description, /held for read · 1 holder/);
  assert.match(picks[0].items[0].detail, /^reader: Fake Code window proj .*\(this window\)/);
  assert.deepEqual(picks[1].items, ['Update safely', 'Copy details', 'Open log']);
  assert.match(state.clipboard, /^stable: held for read\n {2}directory: .*stable-/);
  assert.match(
    state.clipboard,
    /reader: Fake Code window proj \[language servers: rust-analyzer\].*\[this window\]/,
  );
});
