// How each runtime under test runs node: natively, under qemu-aarch64, under wine64. Each returns
// the runtime description lock-scenario.mjs takes, or throws saying what this machine lacks.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheRoot } from '../../scripts/runtimes.mjs';
import { describeEnd, findTool, privateTempDir, runProcess, seconds } from './harness.mjs';

const AARCH64_SYSROOT = '/usr/aarch64-linux-gnu';

/** A POSIX command that stays until STOPFILE exists: the `run` holder's command. */
const posixHolder = (stopFile) => [
  '/bin/sh',
  '-c',
  'while [ ! -e "$1" ]; do sleep 0.1; done',
  'sh',
  stopFile,
];

/** The same for Windows, as a Node script (wine has no handy sleep loop). */
const NODE_HOLDER =
  "setInterval(() => { if (require('fs').existsSync(process.argv[1])) process.exit(0); }, 100)";

/** Node on this machine's own CPU and OS. */
export function nativeRuntime(label, runtime) {
  return Object.freeze({
    label,
    nodeArgv: (args) => [runtime.bin, ...args],
    nativePath: (p) => p,
    env: {},
    holderCommand: posixHolder,
    trueCommand: ['true'],
    startTimeoutMs: 30_000,
  });
}

/** Linux arm64 Node under qemu-user, with the cross libc as its sysroot. */
export function qemuArm64Runtime(label, runtime) {
  const qemu = findTool('qemu-aarch64', '/usr/bin/qemu-aarch64-static');
  if (!qemu) throw new Error('qemu-aarch64 is not installed (apt-get install qemu-user)');
  if (!fs.existsSync(path.join(AARCH64_SYSROOT, 'lib', 'ld-linux-aarch64.so.1'))) {
    throw new Error(`no aarch64 libc in ${AARCH64_SYSROOT} (apt-get install libc6-arm64-cross)`);
  }
  return Object.freeze({
    label,
    nodeArgv: (args) => [qemu, '-L', AARCH64_SYSROOT, runtime.bin, ...args],
    nativePath: (p) => p,
    env: {},
    // The holder command is a host program: qemu-user hands execve of x86-64 binaries to the kernel.
    holderCommand: posixHolder,
    trueCommand: ['true'],
    startTimeoutMs: 120_000,
  });
}

/** wine64 (Debian puts it in /usr/lib/wine when the `wine` wrapper package is not installed). */
export function findWine() {
  const wine = findTool('wine64', '/usr/lib/wine/wine64', '/usr/lib/wine/wine');
  if (!wine) throw new Error('wine64 is not installed (apt-get install wine64)');
  return wine;
}

/** The environment of every wine process: our own prefix, no debug noise, no Mono/Gecko prompts. */
export function wineEnv(prefix) {
  return { WINEPREFIX: prefix, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };
}

/** Windows path of a host path, through wine's default Z: drive (Z: is /). */
export const windowsPath = (p) => `Z:${p.replaceAll('/', '\\')}`;

/** Creates (once) a private wine prefix under the dev cache and makes it report Windows 10. */
export async function prepareWinePrefix(wine) {
  const prefix = path.join(cacheRoot(), 'wine-prefix');
  const logDir = privateTempDir('tcl-wine-');
  const options = { env: { ...process.env, ...wineEnv(prefix) }, logDir, timeoutMs: 5 * 60_000 };
  const ready = path.join(prefix, '.toolchain-lock-ready');
  if (!fs.existsSync(ready)) {
    fs.mkdirSync(path.dirname(prefix), { recursive: true });
    const boot = await runProcess([wine, 'wineboot', '--init'], options);
    if (boot.code !== 0)
      throw new Error(`wineboot --init in ${prefix} failed: ${describeEnd(boot)}`);
  }
  const reg = await runProcess(
    [wine, 'reg', 'add', 'HKCU\\Software\\Wine', '/v', 'Version', '/d', 'win10', '/f'],
    options,
  );
  if (reg.code !== 0)
    throw new Error(`wine reg add HKCU\\Software\\Wine Version=win10 failed: ${describeEnd(reg)}`);
  fs.writeFileSync(ready, '');
  fs.rmSync(logDir, { recursive: true, force: true });
  return prefix;
}

/** node.exe itself, or a copy of it named EXENAME next to it (Code.exe: VS Code's host). */
export function hostExecutable(runtime, exeName) {
  if (exeName === path.basename(runtime.bin)) return runtime.bin;
  const copy = path.join(path.dirname(runtime.bin), exeName);
  if (!fs.existsSync(copy) || fs.statSync(copy).size !== fs.statSync(runtime.bin).size) {
    fs.copyFileSync(runtime.bin, `${copy}.tmp`);
    fs.renameSync(`${copy}.tmp`, copy);
  }
  return copy;
}

/** Checks that the exe starts under wine at all; returns how long one start took. */
export async function probeWineNode(wine, prefix, exe) {
  const logDir = privateTempDir('tcl-wine-');
  const env = { ...process.env, ...wineEnv(prefix) };
  const script = 'console.log(process.platform + " " + process.arch + " " + process.version)';
  const result = await runProcess([wine, exe, '-e', script], { env, logDir, timeoutMs: 120_000 });
  if (result.code !== 0 || !result.stdout.startsWith('win32 x64')) {
    throw new Error(
      `${path.basename(exe)} does not run under wine64: ${describeEnd(result)}; stdout: ${result.stdout.trim()} (logs: ${logDir})`,
    );
  }
  fs.rmSync(logDir, { recursive: true, force: true });
  return `${path.basename(exe)} under wine64 starts in ${seconds(result.ms)} (${result.stdout.trim()})`;
}

/** Windows x64 Node under wine64, started as EXE (a host path). */
export function wineRuntime(label, wine, prefix, exe) {
  const exeWindows = windowsPath(exe);
  return Object.freeze({
    label,
    nodeArgv: (args) => [wine, exe, ...args],
    nativePath: windowsPath,
    env: wineEnv(prefix),
    holderCommand: (stopFile) => [exeWindows, '-e', NODE_HOLDER, stopFile],
    trueCommand: [exeWindows, '-e', '0'],
    startTimeoutMs: 120_000,
    // Seen once in ~10 CI runs, never in 60 spawns in a row: wine's CreateProcess failing with an
    // error libuv does not know. Real Windows is not wine; a second failure still fails the check.
    flakyStart: /^toolchain-lock: cannot run .*: spawn UNKNOWN\.\r?$/m,
  });
}
