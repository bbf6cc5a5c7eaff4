// The extension on rustup's own paths (issue 12 item 7), under a fake `vscode` with everything else
// real: the lock, the toolchain resolver, a managed LSP server process, and the real rustup on the
// test bed (test/fixtures/rustup-testbed.mjs), its dist served over HTTP so the test sees the locks
// while rustup downloads, can fail a download, or hold one. "Update toolchain safely" takes exactly
// the locks `toolchain-lock rustup` takes; a pinned toolchain that is not installed is offered for
// install, under its write lock. A stand-in `rustup` (test/fixtures/fake-rustup.mjs, which records
// its arguments and what `status --json` shows) stays where the real one cannot: the exact install
// command line with components and targets the local dist does not have, and names rustup has no
// channel for.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { cli } from '../fixtures/cli-harness.mjs';
import {
  cleanup,
  activateFor,
  extensionForFile,
  hostTriple,
  log,
  logHas,
  until,
  vscode,
} from './extension-harness.mjs';
import { rustupWorlds } from './extension-rustup-world.mjs';

const { state } = vscode;
const full = (n) => `${n}-${hostTriple}`;

const ext = extensionForFile();
const { world, realWorld } = rustupWorlds(() => ext);

const starts = () => log().filter((l) => l.includes('server fake-ls started pid=')).length;
const findMessage = (re) => state.messages.find((m) => re.test(m.text));
const command = (id) => state.commands.get(id);

const activate = (t, w) => activateFor(t, ext, w.context);

async function offerOf(re, timeout) {
  await until(
    () => findMessage(re),
    `a notification matching ${re}; messages: ${JSON.stringify(state.messages.map((m) => m.text))}\nlog:\n${log().join('\n')}`,
    timeout,
  );
  return findMessage(re);
}

test('"Update toolchain safely" of a rustup toolchain takes exactly the locks of `toolchain-lock rustup update` (real rustup)', async (t) => {
  const w = await realWorld(t, { pin: 'stable' });
  if (!w) return;
  await w.bed.install('nightly');
  state.globalConfig['toolchainLock.toolchains'] = [
    { name: 'everything', rustup: 'stable', updateCommand: ['rustup', 'update'] },
  ];
  activate(t, w);
  await until(() => starts() === 1, `server on stable; log:\n${log().join('\n')}`);

  const sorted = (locks) => [...locks].map((l) => l.join(' ')).sort();
  const compare = async (name, rustupArgs, channels) => {
    assert.equal(await command('toolchainLock.updateToolchain')(name), true, `update ${name}`);
    const fromExtension = channels.map((c) => sorted(w.locksAt(c)));
    const r = await cli(['rustup', ...rustupArgs], { env: w.env(), cwd: w.project });
    assert.equal(r.code, 0, r.stderr);
    const fromCli = channels.map((c) => sorted(w.locksAt(c)));
    assert.deepEqual(
      fromExtension,
      fromCli,
      `${name}: the same locks as toolchain-lock rustup ${rustupArgs.join(' ')}`,
    );
    return fromExtension;
  };
  w.bed.publish(2);
  const [one] = await compare('stable', ['update', full('stable')], ['stable']);
  assert.deepEqual(one, [`${w.keyOf('stable')} write`]);
  assert.match(w.bed.marker('stable'), /release 2 /, 'the real rustup updated it');
  // A configured update command that is a rustup command changing more than the toolchain picked:
  // every toolchain it changes is locked, as the wrapper would.
  const all = await compare('everything', ['update'], ['stable', 'nightly']);
  const both = [`${w.keyOf('nightly')} write`, `${w.keyOf('stable')} write`];
  assert.deepEqual(all, [both, both]);
  await until(
    () => starts() === 4,
    'the server restarts after each update (two from here, two from the CLI)',
  );
});

test('a pinned toolchain that is not installed is offered for install; it installs under its write lock and the server starts (real rustup)', async (t) => {
  const w = await realWorld(t, { pin: 'beta' });
  if (!w) return;
  activate(t, w);
  const offer = await offerOf(/^Toolchain beta is not installed/);
  assert.equal(
    offer.text,
    `Toolchain beta is not installed: rust-toolchain.toml in ${w.project} pins it, and fake-ls needs it.`,
  );
  assert.equal(offer.kind, 'warning');
  assert.deepEqual(offer.items, ['Install toolchain', 'Open log']);
  assert.equal(findMessage(/is not running/), undefined, 'not reported as a generic failure too');
  assert.ok(logHas(`does not exist`), 'the log still says why the server did not start');
  const key = w.keyOf('beta');

  offer.choose('Install toolchain');
  await until(
    () => starts() === 1,
    `server starts after the install; log:\n${log().join('\n')}`,
    120_000,
  );
  assert.deepEqual(
    w.locksAt('beta'),
    [[key, 'write']],
    'rustup downloaded under the write lock of the toolchain it installs',
  );
  assert.ok(
    fs.existsSync(path.join(w.dirOf('beta'), 'bin', 'rustc')),
    'the real rustup installed it',
  );
  assert.equal(
    ext.module.engine.toolchainKey(fs.realpathSync(w.dirOf('beta'))),
    key,
    'the same key once it exists',
  );

  const progress = state.progress.find((p) => p.options.title === 'Installing beta');
  assert.ok(progress, JSON.stringify(state.progress.map((p) => p.options.title)));
  assert.equal(progress.options.cancellable, true);
  assert.match(state.outputs.get('Toolchain Lock Update').text, /syncing channel updates/);
  // Its output is the update log "Open the last update's output" opens.
  const shown = [];
  const showTextDocument = vscode.window.showTextDocument;
  vscode.window.showTextDocument = async (uri) => void shown.push(uri.fsPath);
  cleanup(t, () => (vscode.window.showTextDocument = showTextDocument));
  await command('toolchainLock.openUpdateLog')();
  assert.equal(shown.length, 1);
  assert.match(fs.readFileSync(shown[0], 'utf8'), /syncing channel updates for beta-/);

  await until(() => w.lockOf('beta').holders.length === 1, 'the server holds the read lock');
  const lock = w.lockOf('beta');
  assert.equal(lock.writer, null);
  assert.equal(lock.holders[0].mode, 'read');
  assert.equal(
    state.messages.filter((m) => /is not installed/.test(m.text)).length,
    1,
    'offered once',
  );
});

test('a failed install says why, offers the output and leaves no lock; the palette command tries again (real rustup, a download answered 404)', async (t) => {
  const w = await realWorld(t, { pin: 'beta' });
  if (!w) return;
  w.fail('beta');
  // As many Rust developers have it: rustup then prints a backtrace after its `error:` line.
  const backtrace = process.env.RUST_BACKTRACE;
  process.env.RUST_BACKTRACE = '1';
  cleanup(t, () =>
    backtrace === undefined
      ? delete process.env.RUST_BACKTRACE
      : (process.env.RUST_BACKTRACE = backtrace),
  );
  activate(t, w);
  (await offerOf(/^Toolchain beta is not installed/)).choose('Install toolchain');
  const failed = await offerOf(/^Installing beta failed/, 120_000);
  assert.equal(failed.kind, 'error');
  assert.match(failed.text, /rustup toolchain install beta-\S+ failed \(exit status 1\)/);
  // rustup's reason for a manifest answered 404, not the last lines of its backtrace.
  assert.match(
    failed.text,
    /\(exit status 1\)\. error: no release found for 'beta'$/,
    'rustup’s own reason',
  );
  assert.deepEqual(failed.items, ['Show output']);
  const lock = w.lockOf('beta');
  assert.deepEqual([lock.holders, lock.writer, lock.waiting], [[], null, []], 'no lock left');
  assert.equal(starts(), 0);
  assert.equal(fs.existsSync(w.dirOf('beta')), false);

  assert.equal(await command('toolchainLock.installToolchain')(), true);
  await until(() => starts() === 1, 'server starts after the second install', 120_000);
  assert.deepEqual(w.locksAt('beta'), [[w.keyOf('beta'), 'write']]);
  // Nothing is missing any more: the command says so and runs nothing.
  const asked = w.served.requests.length;
  assert.equal(await command('toolchainLock.installToolchain')(), false);
  assert.ok(
    findMessage(/^No toolchain this window needs is missing/),
    JSON.stringify(state.messages.map((m) => m.text)),
  );
  assert.equal(w.served.requests.length, asked, 'rustup asked for nothing');
});

test('cancelling an install stops rustup and leaves no lock (real rustup, held mid-download)', async (t) => {
  const w = await realWorld(t, { pin: 'beta' });
  if (!w) return;
  const release = w.hold('beta');
  cleanup(t, release);
  activate(t, w);
  await offerOf(/^Toolchain beta is not installed/);
  const installing = command('toolchainLock.installToolchain')('beta');
  await until(() => w.asked('beta'), 'rustup asks for the manifest', 60_000);
  assert.deepEqual(w.locksAt('beta'), [[w.keyOf('beta'), 'write']]);
  state.progress.find((p) => p.options.title === 'Installing beta').cancel();
  assert.equal(await installing, false);
  assert.ok(
    findMessage(/^Install of beta cancelled/),
    JSON.stringify(state.messages.map((m) => m.text)),
  );
  const lock = w.lockOf('beta');
  assert.deepEqual([lock.holders, lock.writer, lock.waiting], [[], null, []], 'no lock left');
  assert.equal(fs.existsSync(w.dirOf('beta')), false);
  assert.equal(starts(), 0);
});

test('untrusted workspace: a toolchain its rust-toolchain.toml names is not installed from here until the workspace is trusted (real rustup)', async (t) => {
  const w = await realWorld(t, { pin: 'beta' });
  if (!w) return;
  state.trusted = false;
  activate(t, w);
  const offer = await offerOf(/^Toolchain beta is not installed/);
  assert.match(offer.text, /untrusted/);
  assert.deepEqual(offer.items, ['Manage Workspace Trust', 'Open log']);
  offer.choose('Manage Workspace Trust');
  await until(() => state.executed.includes('workbench.trust.manage'), 'trust management opened');
  assert.equal(await command('toolchainLock.installToolchain')(), false);
  assert.ok(
    state.messages.some((m) => m.kind === 'error' && /untrusted/.test(m.text) && m !== offer),
    JSON.stringify(state.messages.map((m) => m.text)),
  );
  assert.deepEqual(w.served.requests, [], 'rustup never ran');

  state.trusted = true;
  vscode.emitters.trust.fire();
  const trusted = await offerOf(
    /^Toolchain beta is not installed: rust-toolchain.toml in .* pins it, and fake-ls needs it\.$/,
  );
  assert.deepEqual(trusted.items, ['Install toolchain', 'Open log']);
  trusted.choose('Install toolchain');
  await until(() => starts() === 1, 'server starts once trusted and installed', 120_000);
  assert.deepEqual(w.locksAt('beta'), [[w.keyOf('beta'), 'write']]);
});

test('a pinned name rustup cannot install is reported as such, without an install offer', async (t) => {
  const w = world(t, { pin: 'my-custom' });
  // Its two sentences are joined by a message of their own, which a translation may change.
  state.l10nBundle = { '{0} {1}': '{0}\n{1}' };
  activate(t, w);
  const offer = await offerOf(/^Toolchain my-custom is not installed/);
  assert.match(offer.text, /needs it\.\nrustup cannot install it by name/);
  assert.deepEqual(offer.items, ['Open log']);
  assert.equal(await command('toolchainLock.installToolchain')('my-custom'), false);
  assert.deepEqual(w.calls(), []);
});

test('rust-analyzer on a pinned toolchain that is not installed: the same offer; the install restarts it (real rustup)', async (t) => {
  const w = await realWorld(t, { pin: 'beta' });
  if (!w) return;
  delete state.globalConfig['toolchainLock.servers'];
  fs.writeFileSync(path.join(w.project, 'Cargo.toml'), '[package]\nname = "p"\n');
  const ra = [];
  state.extensions.set('rust-lang.rust-analyzer', {
    id: 'rust-lang.rust-analyzer',
    isActive: true,
  });
  state.commands.set('rust-analyzer.stopServer', async () => void ra.push('stop'));
  state.commands.set('rust-analyzer.startServer', async () => void ra.push('start'));
  activate(t, w);
  const offer = await offerOf(/^Toolchain beta is not installed/);
  assert.equal(
    offer.text,
    `Toolchain beta is not installed: rust-toolchain.toml in ${w.project} pins it, and rust-analyzer needs it.`,
  );
  offer.choose('Install toolchain');
  await until(
    () => ra.join() === 'stop,start',
    `rust-analyzer stopped for the install and started after: ${ra}`,
    120_000,
  );
  assert.deepEqual(w.locksAt('beta'), [[w.keyOf('beta'), 'write']]);
  assert.ok(
    fs.existsSync(path.join(w.dirOf('beta'), 'bin', 'rustc')),
    'the real rustup installed it',
  );
  await until(() => w.lockOf('beta').holders.length === 1, 'its read lock is taken back');
});

test('the install brings what rust-toolchain.toml asks for besides the channel; nothing it says becomes an option', async (t) => {
  const w = world(t, {
    toml: 'profile = "minimal"\ncomponents = ["rustfmt", "clippy", "--help"]\ntargets = ["wasm32-unknown-unknown"]\n',
  });
  activate(t, w);
  (await offerOf(/^Toolchain 1\.80\.0 is not installed/)).choose('Install toolchain');
  await until(() => starts() === 1, `server starts after the install; log:\n${log().join('\n')}`);
  const [call] = w.calls();
  // The name first: rustup's --component and --target take every value after them.
  assert.deepEqual(call.args, [
    'toolchain',
    'install',
    full('1.80.0'),
    '--profile',
    'minimal',
    '--component',
    'rustfmt,clippy',
    '--target',
    'wasm32-unknown-unknown',
  ]);
  assert.deepEqual(
    call.locks.map((l) => [l.key, l.state]),
    [[w.keyOf('1.80.0'), 'write']],
    'still exactly the lock of the toolchain it installs',
  );
  assert.ok(
    logHas('asks for "--help", which rustup does not name that way: left out of the install'),
    log().join('\n'),
  );
});

test('a server whose "toolchain" setting names a rustup toolchain that is not installed gets the same offer (real rustup)', async (t) => {
  const w = await realWorld(t, { pin: 'stable' });
  if (!w) return;
  state.globalConfig['toolchainLock.servers'][0].toolchain = 'nightly';
  activate(t, w);
  const offer = await offerOf(/^Toolchain nightly is not installed/);
  assert.equal(
    offer.text,
    'Toolchain nightly is not installed: the toolchainLock settings name it, and fake-ls needs it.',
  );
  assert.deepEqual(offer.items, ['Install toolchain', 'Open log']);
  assert.equal(
    findMessage(/Unknown toolchain/),
    undefined,
    JSON.stringify(state.messages.map((m) => m.text)),
  );
  offer.choose('Install toolchain');
  await until(
    () => starts() === 1,
    `server starts after the install; log:\n${log().join('\n')}`,
    120_000,
  );
  assert.deepEqual(w.locksAt('nightly'), [[w.keyOf('nightly'), 'write']]);
  assert.ok(
    fs.existsSync(path.join(w.dirOf('nightly'), 'bin', 'rustc')),
    'the real rustup installed it',
  );
});
