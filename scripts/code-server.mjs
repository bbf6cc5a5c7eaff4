#!/usr/bin/env node
// Installs a real VS Code (code-server) for headless e2e tests, cached OUTSIDE the repo. Each
// version in CODE_SERVER_VERSIONS runs on its own Node major: this Node when it is that major,
// else a pinned Node from npm (scripts/runtimes.mjs), whose headers also build the native modules.
//
//   node scripts/code-server.mjs install [VERSION]  # installs if missing, prints the entry point path
//   node scripts/code-server.mjs path [VERSION]     # prints the entry point path (exit 1 if not installed)
//   node scripts/code-server.mjs node [VERSION]     # prints the Node binary to run it with
//   node scripts/code-server.mjs dir [VERSION]      # prints the install directory
//
// VERSION defaults to CODE_SERVER_VERSION (4.100.3, Node 20); 4.139.1 runs on Node 24.
// Cache: $TOOLCHAIN_LOCK_CACHE/code-server-<version>, default
//        ${XDG_CACHE_HOME:-~/.cache}/toolchain-lock-dev/code-server-<version>.
// Run the entry point with the Node that installed it: `$(… node VERSION) <entry> --help`.
//
// Needs (Debian): build-essential python3 libkrb5-dev (and ripgrep for 4.100.3); the browser tests
// also need chromium. Only the npm registry is used; native modules are compiled locally
// (prebuilt-binary downloads from GitHub are not reachable, so every download-on-install step is
// skipped or replaced).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { nodeRuntime } from './runtimes.mjs';

/**
 * The code-server versions the e2e tests run in, each with the Node major it needs and the native
 * modules of VS Code's server to compile (plain `npm install` would also try GitHub downloads).
 * `native: 'allowScripts'`: the packages lib/vscode/package.json allows scripts for, except the
 * Windows-only ones. `systemRipgrep`: @vscode/ripgrep downloads rg on install; link Debian's.
 */
export const CODE_SERVER_VERSIONS = Object.freeze({
  // @parcel/watcher needs no build here: its prebuilt linux binary is an npm package.
  '4.100.3': Object.freeze({
    vscode: '1.100.3',
    node: 20,
    native: ['kerberos', '@vscode/spdlog', '@vscode/deviceid', 'native-watchdog', 'node-pty'],
    systemRipgrep: true,
  }),
  // ripgrep (@vscode/ripgrep-universal) and node-pty ship their binaries in their npm packages.
  '4.139.1': Object.freeze({
    vscode: '1.139.1',
    node: 24,
    native: 'allowScripts',
    systemRipgrep: false,
  }),
});
/** The default: what `npm start` and the main e2e suite run. */
export const CODE_SERVER_VERSION = '4.100.3';

const MARKER = '.toolchain-lock-installed.json';

function spec(version) {
  const s = CODE_SERVER_VERSIONS[version];
  if (!s)
    throw new Error(
      `unknown code-server version ${version}; known: ${Object.keys(CODE_SERVER_VERSIONS).join(', ')}`,
    );
  return s;
}

export function codeServerDir(version = CODE_SERVER_VERSION) {
  spec(version);
  const base =
    process.env.TOOLCHAIN_LOCK_CACHE ||
    path.join(
      process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'),
      'toolchain-lock-dev',
    );
  return path.resolve(base, `code-server-${version}`);
}

/** Path of code-server's Node entry point (run it as `<node> <entry> ...`). */
export function codeServerEntry(dir = codeServerDir()) {
  return path.join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
}

function readMarker(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, MARKER), 'utf8'));
  } catch {
    return null;
  }
}

/** Installed for `version` with a Node of ABI `nodeAbi` (default: this process's). */
export function isInstalled(
  dir = codeServerDir(),
  version = CODE_SERVER_VERSION,
  nodeAbi = process.versions.modules,
) {
  const m = readMarker(dir);
  return m?.version === version && m.nodeAbi === nodeAbi && fs.existsSync(codeServerEntry(dir));
}

function which(cmd) {
  for (const d of (process.env.PATH || '').split(path.delimiter)) {
    if (!d) continue;
    const p = path.join(d, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {}
  }
  return null;
}

/** Missing Debian packages needed to install (not chromium: that is only needed to drive it). */
export function missingPrerequisites(version = CODE_SERVER_VERSION) {
  const missing = [];
  if (spec(version).systemRipgrep && !which('rg')) missing.push('ripgrep');
  if (!fs.existsSync('/usr/include/gssapi/gssapi.h') || !which('krb5-config'))
    missing.push('libkrb5-dev');
  if (!which('g++') || !which('make')) missing.push('build-essential');
  if (!which('python3')) missing.push('python3');
  return missing;
}

/**
 * The Node that runs (and installs) code-server `version`: { bin, version, abi, nodedir }.
 * This process's Node when it is the right major (its headers, if installed next to it, else
 * npm's configured nodedir); otherwise the pinned runtime from npm, with that package's headers.
 */
export async function codeServerNode(version = CODE_SERVER_VERSION) {
  const { node } = spec(version);
  if (Number(process.versions.node.split('.')[0]) === node) {
    const prefix = path.dirname(path.dirname(process.execPath));
    const local = fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null;
    return {
      bin: process.execPath,
      version: process.version,
      abi: process.versions.modules,
      nodedir: local,
      own: true,
    };
  }
  const runtime = await nodeRuntime(`node-${process.platform}-${process.arch}`, String(node));
  const abi = spawnSync(runtime.bin, ['-p', 'process.versions.modules'], { encoding: 'utf8' });
  if (abi.status !== 0) throw new Error(`${runtime.bin} does not run: ${abi.stderr || abi.error}`);
  if (!runtime.headersDir)
    throw new Error(
      `the Node ${runtime.version} package has no headers to build native modules with`,
    );
  return {
    bin: runtime.bin,
    version: `v${runtime.version}`,
    abi: abi.stdout.trim(),
    nodedir: runtime.headersDir,
    own: false,
  };
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

// One installer at a time per cache dir (parallel test runs may call install together).
function withLock(dir, fn) {
  const lock = `${dir}.lock`;
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(lock, 'utf8')) || 0;
      if (pid && pidAlive(pid)) {
        sleep(1000);
        continue;
      }
      fs.rmSync(lock, { force: true }); // stale lock from a killed installer
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** Native modules to compile in lib/vscode: the table's list, or what its allowScripts allows. */
function nativeModules(version, vscode) {
  const { native } = spec(version);
  if (native !== 'allowScripts') return native;
  const { allowScripts = {} } = JSON.parse(
    fs.readFileSync(path.join(vscode, 'package.json'), 'utf8'),
  );
  return Object.entries(allowScripts)
    .filter(([, allowed]) => allowed === true)
    .map(([name]) => name.replace(/(.)@.*$/, '$1')) // "@vscode/spdlog@0.15.8" → "@vscode/spdlog"
    .filter((name) => process.platform === 'win32' || !/^@vscode\/windows-/.test(name))
    .filter((name) => fs.existsSync(path.join(vscode, 'node_modules', name, 'package.json')));
}

/**
 * Installs code-server `version` into the cache if needed.
 * Returns { version, dir, entry, node }: run it as `node entry ...`.
 * @param {{ version?: string, log?: (line: string) => void }} [opts]
 */
export async function installCodeServer({
  version = CODE_SERVER_VERSION,
  log = (l) => console.error(l),
} = {}) {
  const dir = codeServerDir(version);
  const node = await codeServerNode(version);
  const result = { version, dir, entry: codeServerEntry(dir), node: node.bin };
  if (isInstalled(dir, version, node.abi)) return result;

  const missing = missingPrerequisites(version);
  if (missing.length) {
    throw new Error(
      `missing system packages: ${missing.join(' ')}\n  run: apt-get install -y ${missing.join(' ')}`,
    );
  }

  return withLock(dir, () => {
    if (isInstalled(dir, version, node.abi)) return result; // another process finished meanwhile
    const started = Date.now();
    fs.rmSync(dir, { recursive: true, force: true }); // no marker: start from a clean slate
    fs.mkdirSync(dir, { recursive: true });
    const logFile = path.join(dir, 'install.log');
    log(
      `code-server ${version}: installing into ${dir} with Node ${node.version} (log: ${logFile})`,
    );

    const env = {
      ...process.env,
      npm_config_yes: 'true', // node-pty's postinstall runs `npx node-gyp`; ~/.npmrc may say yes=false
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      npm_config_update_notifier: 'false',
      // Never try prebuilt-binary downloads (kerberos' prebuild-install, argon2's node-pre-gyp): compile.
      npm_config_build_from_source: 'true',
      FORCE_COLOR: '0',
    };
    if (node.own) {
      // node-gyp must not download Node headers (no network but the registry): use the local ones.
      if (!env.npm_config_nodedir && node.nodedir) env.npm_config_nodedir = node.nodedir;
    } else {
      // npm, its scripts and node-gyp all run on that Node (`npm` starts with `#!/usr/bin/env node`)
      // and build against its headers; the variable beats a `nodedir` in ~/.npmrc.
      env.PATH = `${path.dirname(node.bin)}${path.delimiter}${env.PATH ?? ''}`;
      env.npm_config_nodedir = node.nodedir;
    }

    const npm = (cwd, args) => {
      const t0 = Date.now();
      const out = fs.openSync(logFile, 'a');
      fs.writeSync(out, `\n$ (cd ${cwd} && npm ${args.join(' ')})\n`);
      const r = spawnSync('npm', args, { cwd, env, stdio: ['ignore', out, out] });
      fs.closeSync(out);
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      if (r.error || r.status !== 0) {
        const tail = fs.readFileSync(logFile, 'utf8').split('\n').slice(-25).join('\n');
        throw new Error(`npm ${args.join(' ')} failed in ${cwd} (see ${logFile}):\n${tail}`);
      }
      log(`  ok  npm ${args.join(' ')}  (${secs}s)`);
    };
    const link = (target, at) => {
      fs.rmSync(at, { recursive: true, force: true });
      fs.mkdirSync(path.dirname(at), { recursive: true });
      fs.symlinkSync(target, at);
      log(`  ok  ln -s ${target} ${path.relative(dir, at)}`);
    };

    fs.writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify(
        {
          name: 'toolchain-lock-code-server',
          private: true,
          dependencies: { 'code-server': version },
        },
        null,
        2,
      ) + '\n',
    );
    // 1. code-server itself; its postinstall (which would `npm install` VS Code unattended) is replaced by the steps below.
    npm(dir, ['install', '--ignore-scripts']);
    const cs = path.join(dir, 'node_modules', 'code-server');
    const vscode = path.join(cs, 'lib', 'vscode');

    // 2. VS Code server dependencies, then compile just the native modules.
    npm(vscode, ['install', '--omit=dev', '--ignore-scripts']);
    if (spec(version).systemRipgrep) {
      link(which('rg'), path.join(vscode, 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg')); // instead of a GitHub download
    }
    // Naming packages explicitly runs their install scripts despite npm 11's allowScripts policy.
    npm(vscode, ['rebuild', ...nativeModules(version, vscode), '--foreground-scripts']);
    link('node_modules', path.join(vscode, 'node_modules.asar'));
    link('code-linux.sh', path.join(vscode, 'bin', 'remote-cli', 'code-server'));
    link('browser-linux.sh', path.join(vscode, 'bin', 'helpers', 'browser.sh'));

    // 3. Built-in extensions' shared deps (typescript), trimmed the way upstream's postinstall does.
    const exts = path.join(vscode, 'extensions');
    npm(exts, ['install', '--omit=dev', '--ignore-scripts']);
    const trim = spawnSync(node.bin, ['postinstall.mjs'], { cwd: exts, stdio: 'ignore' });
    if (trim.status !== 0)
      log('  warn extensions/postinstall.mjs failed (only trims typescript; ignored)');

    // 4. argon2 (password hashing; loaded at startup even with --auth none).
    npm(dir, ['rebuild', 'argon2', '--foreground-scripts']);

    // 5. Smoke test, then the marker that makes later calls a no-op.
    const v = spawnSync(node.bin, [codeServerEntry(dir), '--version'], {
      encoding: 'utf8',
      env: { ...process.env, XDG_CONFIG_HOME: path.join(dir, '.config') }, // keep ~/.config untouched
    });
    if (v.status !== 0 || !v.stdout.includes(version)) {
      throw new Error(`code-server --version failed:\n${v.stdout}\n${v.stderr}`);
    }
    log(`  ok  code-server --version: ${v.stdout.trim().split('\n').pop()}`);
    const secs = Math.round((Date.now() - started) / 1000);
    fs.writeFileSync(
      path.join(dir, MARKER),
      JSON.stringify(
        {
          version,
          node: node.version,
          nodeBin: node.bin,
          nodeAbi: node.abi,
          seconds: secs,
          at: new Date().toISOString(),
        },
        null,
        2,
      ) + '\n',
    );
    log(`code-server ${version}: installed in ${secs}s`);
    if (!which('chromium'))
      log('note: the e2e tests also need a browser: apt-get install -y chromium');
    return result;
  });
}

async function main(argv) {
  const [cmd, version = CODE_SERVER_VERSION] = argv;
  if (cmd === 'install') {
    console.log((await installCodeServer({ version })).entry);
  } else if (cmd === 'path' || cmd === 'node') {
    const dir = codeServerDir(version);
    const m = readMarker(dir);
    if (!m || m.version !== version || !fs.existsSync(codeServerEntry(dir))) {
      console.error(
        `code-server ${version} is not installed: node scripts/code-server.mjs install ${version}`,
      );
      return 1;
    }
    console.log(cmd === 'path' ? codeServerEntry(dir) : (m.nodeBin ?? process.execPath));
  } else if (cmd === 'dir') {
    console.log(codeServerDir(version));
  } else {
    console.error(
      `usage: node scripts/code-server.mjs install|path|node|dir [VERSION]\n  VERSION: ${Object.keys(CODE_SERVER_VERSIONS).join(', ')} (default ${CODE_SERVER_VERSION})`,
    );
    return 2;
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e) => {
      console.error(`error: ${e.message}`);
      process.exitCode = 1;
    },
  );
}
