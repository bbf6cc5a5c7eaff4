// Shared by the extension unit tests: bundles an extension module (plain Node, `vscode` faked or
// absent) into a temp dir, fake servers, and real writer processes. The lock is always the real one.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { after, before, beforeEach } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { cleanup } from '../helpers.mjs';

export { cleanup };

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

export function tempDir(t, prefix = 'tcl-ext-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  // Clean-ups run last in, first out, so the extension and the processes made after this directory
  // are gone before it is removed; retry for a write of theirs still in flight.
  cleanup(t, () => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10 }));
  return dir;
}

/**
 * Bundles `contents` (TypeScript, resolved from the repo root) to `outDir/name/dist/name.cjs`, laid
 * out as in the VSIX: the native lock module is found in `outDir/name/prebuilds` (a link to the
 * repo's), or is missing when `native` is false. `vscode` maps to `vscodeFake` when given.
 */
export async function bundle(outDir, name, contents, { vscodeFake, native = true } = {}) {
  const outfile = path.join(outDir, name, 'dist', `${name}.cjs`);
  if (native) {
    fs.mkdirSync(path.join(outDir, name), { recursive: true });
    fs.symlinkSync(path.join(repoRoot, 'prebuilds'), path.join(outDir, name, 'prebuilds'));
  }
  await esbuild.build({
    stdin: { contents, resolveDir: repoRoot, loader: 'ts', sourcefile: `${name}-entry.ts` },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile,
    logLevel: 'error',
    plugins: [
      {
        name: 'externals',
        setup(build) {
          // External, so the test and the bundle share one fake and the test can inspect it.
          if (vscodeFake)
            build.onResolve({ filter: /^vscode$/ }, () => ({ path: vscodeFake, external: true }));
        },
      },
    ],
  });
  return { file: outfile, module: require(outfile) };
}

/**
 * `bundle` once for the whole test file: before its first test, into a build directory removed
 * after its last. The returned object gets `dir` and, once built, the bundle's `file` and `module`.
 */
export function bundleForFile(name, contents, options) {
  const built = {};
  before(async () => {
    built.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcl-ext-build-'));
    Object.assign(built, await bundle(built.dir, name, contents, options));
  });
  after(() => {
    if (built.dir) fs.rmSync(built.dir, { recursive: true, force: true });
  });
  return built;
}

/** Resolves when `pred()` holds, polling; rejects with `what` after `timeout` ms. */
export async function until(pred, what, timeout = 15000) {
  const end = Date.now() + timeout;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A logger that keeps its lines (and prints them when TCL_DEBUG is set). */
export function memoryLog() {
  const lines = [];
  const add = (level) => (m) => {
    lines.push(`${level} ${m}`);
    if (process.env.TCL_DEBUG) console.error(`${Date.now() % 100000} ${level} ${m}`);
  };
  return {
    lines,
    info: add('info'),
    warn: add('warn'),
    error: add('error'),
    has: (s) => lines.some((l) => l.includes(s)),
  };
}

/**
 * A fake server: records every call in `events` (shared across fakes for ordering checks).
 * `behaviour.stop` / `.start` may be replaced to misbehave.
 */
export function fakeUnit(id, toolchains, events, behaviour = {}) {
  let running = false;
  const exitListeners = new Set();
  const unit = {
    id,
    toolchains,
    owned: behaviour.owned ?? true,
    signature: behaviour.signature ?? id,
    starts: 0,
    stops: 0,
    kills: 0,
    lastEnv: null,
    get pid() {
      return running ? 4000 + unit.starts : undefined;
    },
    isRunning: () =>
      behaviour.initiallyRunning && unit.starts === 0 && unit.stops === 0 ? true : running,
    async start(env) {
      events.push(`start ${id}`);
      unit.lastEnv = env;
      if (behaviour.start) await behaviour.start();
      unit.starts++;
      running = true;
    },
    async stop() {
      events.push(`stop ${id}`);
      if (behaviour.stop) await behaviour.stop();
      unit.stops++;
      running = false;
      events.push(`stopped ${id}`);
    },
    async kill() {
      events.push(`kill ${id}`);
      unit.kills++;
      running = false;
    },
    onDidExit(listener) {
      exitListeners.add(listener);
      return { dispose: () => exitListeners.delete(listener) };
    },
    crash(final = false) {
      running = false;
      for (const l of exitListeners) l({ final, message: 'crashed (test)' });
    },
  };
  return unit;
}

const WRITER = `
const bundled = require(process.argv[2]);
const engine = bundled.engine ?? bundled;
const [dir, name, tcPath] = process.argv.slice(3);
const say = (event, extra = {}) => process.stdout.write(JSON.stringify({ event, ...extra }) + '\\n');
(async () => {
  say('announcing');
  const lock = await engine.acquireWrite([{ name, path: tcPath }], {
    lockDir: dir, client: 'test-writer', command: ['rustup', 'update', name],
    onWait: (b) => say('waiting', { blockers: b.map((h) => ({ pid: h.pid, mode: h.mode, state: h.state })) }),
  });
  say('acquired');
  require('readline').createInterface({ input: process.stdin }).on('line', async (l) => {
    if (l === 'release') { await lock.release(); say('released'); process.exit(0); }
  });
})().catch((e) => { say('error', { message: e.message }); process.exit(1); });
`;

/** The lock state machine (src/extension/state/coordinator) with its engine, as `coordinatorWorld` wants it. */
/** The engine (taking locks, src/lock, and observing them, src/observe) as one `engine` export. */
export const ENGINE_EXPORT =
  "import * as lockEngine from './src/lock/index';\nimport * as observeEngine from './src/observe/index';\nexport const engine = { ...lockEngine, ...observeEngine };";
export const LOCKSTATE_ENTRY = `export * from './src/extension/state/coordinator';\n${ENGINE_EXPORT}`;

/** LOCKSTATE_ENTRY with the managed LSP server. */
export const MANAGED_ENTRY = `${LOCKSTATE_ENTRY}\nexport { ManagedServer } from './src/extension/servers/managed';`;

/**
 * A LockCoordinator of `lib` (a bundle of LOCKSTATE_ENTRY) over the lock directory `locks` of a temp
 * root, on a toolchain `stable` there; disposed after the test. `status()` is that toolchain's
 * lock, `writer()` a real writer on it (`spawnWriter`).
 */
export function coordinatorWorld(
  t,
  lib,
  { stopTimeoutMs = 2000, startTimeoutMs, hooks = {} } = {},
) {
  const root = tempDir(t);
  const lockDir = path.join(root, 'locks');
  const tc = { name: 'stable', path: path.join(root, 'toolchains', 'stable') };
  fs.mkdirSync(tc.path, { recursive: true });
  const log = memoryLog();
  const events = [];
  const coordinator = new lib.module.LockCoordinator({
    lockDir,
    pollIntervalMs: 200,
    stopTimeoutMs: () => stopTimeoutMs,
    ...(startTimeoutMs === undefined ? {} : { startTimeoutMs: () => startTimeoutMs }),
    log,
    hooks,
  });
  cleanup(t, () => coordinator.dispose());
  const status = () => lib.module.engine.status({ lockDir, toolchains: [tc] })[0];
  const writer = () => spawnWriter(t, lib.file, lockDir, tc);
  return { root, lockDir, tc, log, events, coordinator, status, writer };
}

/** A real writer in its own process: it announces itself, waits, reports `acquired`, obeys `release`. */
export function spawnWriter(t, engineBundle, dir, toolchain) {
  const script = path.join(path.dirname(engineBundle), 'writer.cjs');
  if (!fs.existsSync(script)) fs.writeFileSync(script, WRITER);
  const child = spawn(
    process.execPath,
    [script, engineBundle, dir, toolchain.name, toolchain.path],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const events = [];
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      events.push(JSON.parse(line));
    } catch {
      // not ours
    }
  });
  cleanup(t, () => child.kill('SIGKILL'));
  return {
    child,
    events,
    has: (name) => events.some((e) => e.event === name),
    next: (name, timeout) =>
      until(() => events.some((e) => e.event === name), `writer event ${name}`, timeout),
    release: () => child.stdin.write('release\n'),
  };
}

export const fakeVscodePath = path.join(repoRoot, 'test', 'unit', 'extension-fake-vscode.cjs');
export const fakeServerPath = path.join(repoRoot, 'test', 'unit', 'extension-fake-ls.cjs');
/** The fake `vscode` every bundle made with `vscodeFake: fakeVscodePath` shares with the tests. */
export const vscode = require(fakeVscodePath);
const { state } = vscode;

/** The whole extension with its engine beside it, as most extension tests bundle it. */
export const EXTENSION_ENTRY = `export * from './src/extension/main';\n${ENGINE_EXPORT}`;

/**
 * The extension bundled against the fake `vscode` for the test file (`bundleForFile`), the fake put
 * back to a fresh window's before each test.
 */
export function extensionForFile(contents = EXTENSION_ENTRY) {
  const ext = bundleForFile('extension', contents, { vscodeFake: fakeVscodePath });
  beforeEach(() => resetFakeVscode(state));
  return ext;
}

/** Activates the extension for one test; resolves once our log has a line with `what`, if given. */
export async function activateFor(t, ext, context, what) {
  ext.module.activate(context);
  cleanup(t, () => ext.module.deactivate());
  if (what !== undefined) await until(() => logHas(what), `${what}; log: ${log().join('\n')}`);
}

/** The lines of our output channel so far. */
export const log = () => state.outputs.get('Toolchain Lock')?.lines ?? [];
export const logHas = (s) => log().some((l) => l.includes(s));
/** Our status bar item. */
export const item = () => state.statusItems.find((i) => i.id === 'toolchainLock.status');

/** Tells the extension that the settings `keys` (and everything under them) changed. */
export const changed = (...keys) =>
  vscode.emitters.config.fire({
    affectsConfiguration: (s) => keys.some((k) => k === s || k.startsWith(`${s}.`)),
  });

/** A terminal environment collection that records what the extension does to it in `ops`. */
export function recordingEnvironment() {
  const env = {
    ops: [],
    clear() {
      env.ops.length = 0;
    },
    prepend: (k, v) => env.ops.push(['prepend', k, v]),
    replace: (k, v) => env.ops.push(['replace', k, v]),
    append: (k, v) => env.ops.push(['append', k, v]),
  };
  return env;
}

/** An ExtensionContext with its storage in `root/<storage>`; the terminal environment is ignored unless `env` is given. */
export function fakeContext(root, { env, storage = 'storage' } = {}) {
  return {
    subscriptions: [],
    extensionPath: repoRoot,
    globalStorageUri: vscode.Uri.file(path.join(root, storage)),
    environmentVariableCollection: env ?? { clear() {}, prepend() {}, replace() {}, append() {} },
  };
}

/** Sets process.env variables (undefined: deletes) for one test; the old values come back after it. */
export function setEnv(t, vars) {
  const assign = (values) => {
    for (const [k, v] of Object.entries(values))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  };
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  cleanup(t, () => assign(saved));
  assign(vars);
}

/**
 * A window on the folder `root/proj`, with our lock directory `root/locks` in the user settings,
 * and the context to activate the extension with (`fakeContext` options).
 */
export function windowWorld(t, { prefix, ...contextOptions } = {}) {
  const root = tempDir(t, prefix);
  const project = path.join(root, 'proj');
  fs.mkdirSync(project);
  const lockDir = path.join(root, 'locks');
  state.globalConfig['toolchainLock.lockDir'] = lockDir;
  state.folders = [project];
  return { root, project, lockDir, context: fakeContext(root, contextOptions) };
}

/**
 * A rustup home under `root` with `stable` (RUSTUP_HOME for the test, RUSTUP_TOOLCHAIN unset);
 * unless `rust` is false, `project` made a Cargo project pinned to stable by its rust-toolchain.toml.
 */
export function stableRustup(t, root, project, { rust = true } = {}) {
  const rustupHome = path.join(root, 'rustup');
  const stable = path.join(rustupHome, 'toolchains', `stable-${hostTriple}`);
  fs.mkdirSync(path.join(stable, 'bin'), { recursive: true });
  if (rust) {
    fs.writeFileSync(path.join(project, 'Cargo.toml'), '[package]\nname = "p"\n');
    fs.writeFileSync(
      path.join(project, 'rust-toolchain.toml'),
      '[toolchain]\nchannel = "stable"\n',
    );
  }
  setEnv(t, { RUSTUP_HOME: rustupHome, RUSTUP_TOOLCHAIN: undefined });
  return { rustupHome, stable };
}

/** rust-analyzer "installed" without its exports: the preset's stop/start commands land in `calls`. */
export function rustAnalyzerCommands() {
  const ra = { calls: [] };
  state.extensions.set('rust-lang.rust-analyzer', {
    id: 'rust-lang.rust-analyzer',
    isActive: true,
  });
  state.commands.set('rust-analyzer.stopServer', async () => void ra.calls.push('stop'));
  state.commands.set('rust-analyzer.startServer', async () => void ra.calls.push('start'));
  return ra;
}

/** True while a process with this pid exists. */
export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** This host's rustup triple, as the fake rustup homes of the tests name toolchains. */
export const hostTriple = `${{ x64: 'x86_64', arm64: 'aarch64' }[process.arch]}-${{ linux: 'unknown-linux-gnu', darwin: 'apple-darwin' }[process.platform]}`;

/** Puts the fake `vscode`'s recorded state back to a fresh window's: no commands, messages, settings or folders; trusted. */
export function resetFakeVscode(state) {
  for (const k of ['commands', 'outputs', 'extensions', 'context', 'treeViews']) state[k].clear();
  state.l10nBundle = null;
  for (const k of ['executed', 'statusItems', 'messages', 'progress']) state[k].length = 0;
  state.config = {};
  state.globalConfig = {};
  state.defaultConfig = {};
  state.trusted = true;
  state.folders = [];
  state.quickPick = null;
}

export { addProcMacroSrv } from '../fixtures/fake-rust-analyzer/toolchain.mjs';

export const fakeRustAnalyzerDir = path.join(repoRoot, 'test', 'fixtures', 'fake-rust-analyzer');

/** Bundles the rust-analyzer stand-in against the fake `vscode` (its server script beside it). */
export async function bundleFakeRustAnalyzer(outDir) {
  const b = await bundle(
    outDir,
    'fake-rust-analyzer',
    "module.exports = require('./test/fixtures/fake-rust-analyzer/extension.js');",
    { vscodeFake: fakeVscodePath, native: false },
  );
  fs.copyFileSync(
    path.join(fakeRustAnalyzerDir, 'server.js'),
    path.join(path.dirname(b.file), 'server.js'),
  );
  return b;
}

/** Every `configuration` default and `configurationDefaults` entry of an extension's package.json. */
export function contributedDefaults(packageJsonPath) {
  const pkg = JSON.parse(fs.readFileSync(packageJsonPath, 'utf8'));
  const out = {};
  for (const [k, v] of Object.entries(pkg.contributes?.configuration?.properties ?? {}))
    if ('default' in v) out[k] = v.default;
  return { ...out, ...(pkg.contributes?.configurationDefaults ?? {}) };
}
