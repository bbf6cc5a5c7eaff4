#!/usr/bin/env node
// Installs a real VS Code (code-server) for headless e2e tests, cached OUTSIDE the repo.
//
//   node scripts/code-server.mjs install   # installs if missing, prints the entry point path
//   node scripts/code-server.mjs path      # prints the entry point path (exit 1 if not installed)
//   node scripts/code-server.mjs dir       # prints the install directory
//
// Cache: $TOOLCHAIN_LOCK_CACHE/code-server-<version>, default
//        ${XDG_CACHE_HOME:-~/.cache}/toolchain-lock-dev/code-server-<version>.
// Run the entry point with the same Node (20) that installed it: `node <entry> --help`.
//
// Needs (Debian): build-essential python3 ripgrep libkrb5-dev; the browser tests also need chromium.
// Only the npm registry is used; native modules are compiled locally (prebuilt-binary downloads
// from GitHub are not reachable, so every download-on-install step is skipped or replaced).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';

const MARKER = '.toolchain-lock-installed.json';
// Native modules of VS Code's server that we compile (plain `npm install` would also try GitHub
// downloads). @parcel/watcher needs no build: its prebuilt linux binary is an npm package.
const VSCODE_NATIVE = ['kerberos', '@vscode/spdlog', '@vscode/deviceid', 'native-watchdog', 'node-pty'];

export function codeServerDir() {
  const base =
    process.env.TOOLCHAIN_LOCK_CACHE ||
    path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'toolchain-lock-dev');
  return path.resolve(base, `code-server-${CODE_SERVER_VERSION}`);
}

/** Path of code-server's Node entry point (run it as `node <entry> ...`). */
export function codeServerEntry(dir = codeServerDir()) {
  return path.join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
}

export function isInstalled(dir = codeServerDir()) {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, MARKER), 'utf8'));
    return m.version === CODE_SERVER_VERSION && m.nodeAbi === process.versions.modules && fs.existsSync(codeServerEntry(dir));
  } catch {
    return false;
  }
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
export function missingPrerequisites() {
  const missing = [];
  if (!which('rg')) missing.push('ripgrep');
  if (!fs.existsSync('/usr/include/gssapi/gssapi.h') || !which('krb5-config')) missing.push('libkrb5-dev');
  if (!which('g++') || !which('make')) missing.push('build-essential');
  if (!which('python3')) missing.push('python3');
  return missing;
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

/**
 * Installs code-server into the cache if needed and returns the entry point path.
 * @param {{ log?: (line: string) => void }} [opts]
 */
export function installCodeServer({ log = (l) => console.error(l) } = {}) {
  const dir = codeServerDir();
  if (isInstalled(dir)) return codeServerEntry(dir);

  const major = Number(process.versions.node.split('.')[0]);
  if (major !== 20) throw new Error(`code-server ${CODE_SERVER_VERSION} needs Node 20, this is ${process.version}`);
  const missing = missingPrerequisites();
  if (missing.length) {
    throw new Error(`missing system packages: ${missing.join(' ')}\n  run: apt-get install -y ${missing.join(' ')}`);
  }

  return withLock(dir, () => {
    if (isInstalled(dir)) return codeServerEntry(dir); // another process finished meanwhile
    const started = Date.now();
    fs.rmSync(dir, { recursive: true, force: true }); // no marker: start from a clean slate
    fs.mkdirSync(dir, { recursive: true });
    const logFile = path.join(dir, 'install.log');
    log(`code-server ${CODE_SERVER_VERSION}: installing into ${dir} (log: ${logFile})`);

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
    // node-gyp must not download Node headers (no network but the registry): use the local ones.
    const nodePrefix = path.dirname(path.dirname(process.execPath));
    if (!env.npm_config_nodedir && fs.existsSync(path.join(nodePrefix, 'include', 'node', 'node_api.h'))) {
      env.npm_config_nodedir = nodePrefix;
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
      JSON.stringify({ name: 'toolchain-lock-code-server', private: true, dependencies: { 'code-server': CODE_SERVER_VERSION } }, null, 2) + '\n',
    );
    // 1. code-server itself; its postinstall (which would `npm install` VS Code unattended) is replaced by the steps below.
    npm(dir, ['install', '--ignore-scripts']);
    const cs = path.join(dir, 'node_modules', 'code-server');
    const vscode = path.join(cs, 'lib', 'vscode');

    // 2. VS Code server dependencies, then compile just the native modules.
    npm(vscode, ['install', '--omit=dev', '--ignore-scripts']);
    link(which('rg'), path.join(vscode, 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg')); // instead of a GitHub download
    // Naming packages explicitly runs their install scripts despite npm 11's allowScripts policy.
    npm(vscode, ['rebuild', ...VSCODE_NATIVE, '--foreground-scripts']);
    link('node_modules', path.join(vscode, 'node_modules.asar'));
    link('code-linux.sh', path.join(vscode, 'bin', 'remote-cli', 'code-server'));
    link('browser-linux.sh', path.join(vscode, 'bin', 'helpers', 'browser.sh'));

    // 3. Built-in extensions' shared deps (typescript), trimmed the way upstream's postinstall does.
    const exts = path.join(vscode, 'extensions');
    npm(exts, ['install', '--omit=dev', '--ignore-scripts']);
    const trim = spawnSync(process.execPath, ['postinstall.mjs'], { cwd: exts, stdio: 'ignore' });
    if (trim.status !== 0) log('  warn extensions/postinstall.mjs failed (only trims typescript; ignored)');

    // 4. argon2 (password hashing; loaded at startup even with --auth none).
    npm(dir, ['rebuild', 'argon2', '--foreground-scripts']);

    // 5. Smoke test, then the marker that makes later calls a no-op.
    const v = spawnSync(process.execPath, [codeServerEntry(dir), '--version'], {
      encoding: 'utf8',
      env: { ...process.env, XDG_CONFIG_HOME: path.join(dir, '.config') }, // keep ~/.config untouched
    });
    if (v.status !== 0 || !v.stdout.includes(CODE_SERVER_VERSION)) {
      throw new Error(`code-server --version failed:\n${v.stdout}\n${v.stderr}`);
    }
    log(`  ok  code-server --version: ${v.stdout.trim().split('\n').pop()}`);
    const secs = Math.round((Date.now() - started) / 1000);
    fs.writeFileSync(
      path.join(dir, MARKER),
      JSON.stringify({ version: CODE_SERVER_VERSION, node: process.version, nodeAbi: process.versions.modules, seconds: secs, at: new Date().toISOString() }, null, 2) + '\n',
    );
    log(`code-server ${CODE_SERVER_VERSION}: installed in ${secs}s`);
    if (!which('chromium')) log('note: the e2e tests also need a browser: apt-get install -y chromium');
    return codeServerEntry(dir);
  });
}

function main(argv) {
  const cmd = argv[0];
  if (cmd === 'install') {
    console.log(installCodeServer());
  } else if (cmd === 'path') {
    if (!isInstalled()) {
      console.error(`code-server ${CODE_SERVER_VERSION} is not installed: node scripts/code-server.mjs install`);
      return 1;
    }
    console.log(codeServerEntry());
  } else if (cmd === 'dir') {
    console.log(codeServerDir());
  } else {
    console.error('usage: node scripts/code-server.mjs install|path|dir');
    return 2;
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    console.error(`error: ${e.message}`);
    process.exitCode = 1;
  }
}
