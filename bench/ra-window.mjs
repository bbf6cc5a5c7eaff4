// One "window" for the benchmark: the real extension under the unit tests' fake `vscode`, next to
// the rust-analyzer stand-in (test/fixtures/fake-rust-analyzer) whose server runs a real
// rust-analyzer-proc-macro-srv and takes SHUTDOWN_MS to shut down. A code-server window is too
// heavy to measure a hundred rounds with; the lock, the processes and the extension are the same.
//   node ra-window.mjs ROOT SHUTDOWN_MS
// Prints JSON lines: {ev: 'ready', lockDir, toolchain}, then {ev: 'log', line} for each line of its
// log and the stand-in's.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import {
  addProcMacroSrv,
  bundle,
  bundleFakeRustAnalyzer,
  contributedDefaults,
  fakeRustAnalyzerDir,
  fakeVscodePath,
  hostTriple,
  repoRoot,
  resetFakeVscode,
} from '../test/unit/extension-harness.mjs';

const require = createRequire(import.meta.url);
const [root, shutdownMs] = process.argv.slice(2);
const vscode = require(fakeVscodePath);
const { state } = vscode;
const say = (ev, extra = {}) => process.stdout.write(JSON.stringify({ ev, ...extra }) + '\n');

const build = path.join(root, 'build');
fs.mkdirSync(build, { recursive: true });
const ext = await bundle(build, 'extension', "export * from './src/extension/main';", {
  vscodeFake: fakeVscodePath,
});
const ra = await bundleFakeRustAnalyzer(build);

resetFakeVscode(state);
const rustupHome = path.join(root, 'rustup');
const toolchain = path.join(rustupHome, 'toolchains', `stable-${hostTriple}`);
fs.mkdirSync(path.join(toolchain, 'bin'), { recursive: true });
const procMacroSrv = addProcMacroSrv(toolchain);
const project = path.join(root, 'proj');
fs.mkdirSync(project, { recursive: true });
fs.writeFileSync(path.join(project, 'Cargo.toml'), '[package]\nname = "p"\n');
fs.writeFileSync(path.join(project, 'rust-toolchain.toml'), '[toolchain]\nchannel = "stable"\n');
const lockDir = path.join(root, 'locks');
process.env.RUSTUP_HOME = rustupHome;
delete process.env.RUSTUP_TOOLCHAIN;
Object.assign(
  state.defaultConfig,
  contributedDefaults(path.join(fakeRustAnalyzerDir, 'package.json')),
  contributedDefaults(path.join(repoRoot, 'package.json')),
);
Object.assign(state.globalConfig, {
  'toolchainLock.lockDir': lockDir,
  'rust-analyzer.procMacro.server': procMacroSrv,
  'rust-analyzer.testShutdownMs': Number(shutdownMs),
});
state.folders = [project];
const context = (name) => ({
  subscriptions: [],
  extensionPath: repoRoot,
  globalStorageUri: vscode.Uri.file(path.join(root, name)),
  environmentVariableCollection: { clear() {}, prepend() {}, replace() {}, append() {} },
});

const raContext = context('ra');
const api = await ra.module.activate(raContext);
state.extensions.set('rust-lang.rust-analyzer', {
  id: 'rust-lang.rust-analyzer',
  isActive: true,
  exports: api,
});
ext.module.activate(context('storage'));

// Log lines, as they come (the output channel is a plain array in the fake).
const seen = new Map();
setInterval(() => {
  for (const channel of ['Toolchain Lock', 'rust-analyzer (stand-in)']) {
    const lines = state.outputs.get(channel)?.lines ?? [];
    let i = seen.get(channel) ?? 0;
    for (; i < lines.length; i++) say('log', { line: lines[i] });
    seen.set(channel, i);
  }
}, 5);
say('ready', { lockDir, toolchain: fs.realpathSync(toolchain) });
process.stdin.on('end', async () => {
  await ext.module.deactivate();
  for (const d of raContext.subscriptions) d.dispose();
  setTimeout(() => process.exit(0), 500);
});
process.stdin.resume();
