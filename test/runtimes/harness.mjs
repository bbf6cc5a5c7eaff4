// The harness of scripts/test-runtimes.mjs: named checks with PASS/FAIL lines, real processes
// with their output in files (Node under wine writes to files more reliably than to pipes), waits
// for conditions with a bound, private temporary directories.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** Runs one named check; prints PASS with its detail or FAIL with the reason. Never throws. */
export async function runCheck(results, name, check) {
  const started = Date.now();
  console.log(`---- ${name}`);
  let ok = false;
  let detail;
  try {
    detail = (await check()) ?? '';
    ok = true;
  } catch (err) {
    detail = err instanceof Error ? err.message : String(err);
  }
  const ms = Date.now() - started;
  results.push(Object.freeze({ name, ok, detail, ms }));
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name} (${seconds(ms)})${detail ? `: ${detail}` : ''}`);
}

/** The last line of every run: exactly "N passed, N failed". */
export function summaryLine(results) {
  const passed = results.filter((r) => r.ok).length;
  return `${passed} passed, ${results.length - passed} failed`;
}

/** A fresh directory only we can use (lock directories must not be writable by others). */
export function privateTempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o700);
  return dir;
}

/** Which executable on PATH is called NAME, or null. */
export function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** The first existing executable among NAME on PATH and the given absolute paths, or null. */
export function findTool(name, ...fallbacks) {
  return onPath(name) ?? fallbacks.find((p) => fs.existsSync(p)) ?? null;
}

/** Throws when the condition does not hold: the message is what FAIL prints. */
export function expect(condition, message) {
  if (!condition) throw new Error(message);
}

let outputSerial = 0;

/**
 * Starts ARGV with stdout/stderr redirected to files in logDir; returns { child, done, kill }.
 * `done` resolves with { code, signal, stdout, stderr, ms }; after timeoutMs the process is killed
 * and `timedOut` is set.
 */
export function startProcess(
  argv,
  { env = process.env, cwd = repoRoot, logDir, timeoutMs = 60_000 },
) {
  const stem = path.join(
    logDir,
    `${++outputSerial}-${path.basename(argv[0]).replace(/\W+/g, '_')}`,
  );
  const outFile = `${stem}.out`;
  const errFile = `${stem}.err`;
  const out = fs.openSync(outFile, 'w');
  const err = fs.openSync(errFile, 'w');
  const started = Date.now();
  const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', out, err] });
  fs.closeSync(out);
  fs.closeSync(err);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const done = new Promise((resolve) => {
    const finish = (code, signal, spawnError) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        timedOut,
        spawnError,
        stdout: readText(outFile),
        stderr: readText(errFile) + (spawnError ? `\n${spawnError.message}` : ''),
        ms: Date.now() - started,
        outFile,
        errFile,
      });
    };
    child.on('error', (e) => finish(null, null, e));
    child.on('exit', (code, signal) => finish(code, signal, undefined));
  });
  return { child, done, kill: () => child.kill('SIGKILL') };
}

/** Runs ARGV to its end (see startProcess). */
export function runProcess(argv, options) {
  return startProcess(argv, options).done;
}

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

// Debian packages (what scripts/install-system-deps.sh installs) that carry a shared library, by
// the machine of the program that needs it (ELF e_machine).
const LIBRARY_PACKAGES = {
  aarch64: {
    'libstdc++.so.6': 'libstdc++6-arm64-cross',
    'libgcc_s.so.1': 'libgcc-s1-arm64-cross',
    'libc.so.6': 'libc6-arm64-cross',
    'libm.so.6': 'libc6-arm64-cross',
    'libdl.so.2': 'libc6-arm64-cross',
    'libpthread.so.0': 'libc6-arm64-cross',
  },
  'x86-64': {
    'libstdc++.so.6': 'libstdc++6',
    'libgcc_s.so.1': 'libgcc-s1',
    'libc.so.6': 'libc6',
    'libm.so.6': 'libc6',
    'libdl.so.2': 'libc6',
    'libpthread.so.0': 'libc6',
  },
};
const ELF_MACHINES = { 0x3e: 'x86-64', 0xb7: 'aarch64' };

/** The machine an ELF file is built for, or null. */
export function elfMachine(file) {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const header = Buffer.alloc(20);
      if (fs.readSync(fd, header, 0, 20, 0) < 20 || header.toString('latin1', 0, 4) !== '\x7fELF')
        return null;
      // e_machine at offset 18, in the byte order of EI_DATA (1: little endian).
      return (
        ELF_MACHINES[header[5] === 1 ? header.readUInt16LE(18) : header.readUInt16BE(18)] ?? null
      );
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return null;
  }
}

/**
 * "PROGRAM: error while loading shared libraries: LIB: cannot open shared object file" names the
 * Debian package that carries LIB for PROGRAM's machine, so a FAIL says what to install.
 */
export function missingLibraryHint(stderr) {
  const m =
    /(\S+): error while loading shared libraries: ([^:\s]+): cannot open shared object file/.exec(
      stderr,
    );
  if (!m) return '';
  const [, program, library] = m;
  const machine = elfMachine(program);
  const pkg = machine ? LIBRARY_PACKAGES[machine][library] : undefined;
  if (pkg)
    return `${library} for ${machine} is missing: install the Debian package ${pkg} (scripts/install-system-deps.sh installs it)`;
  return `${library}${machine ? ` for ${machine}` : ''} is missing: install the package that provides it (\`apt-file search ${library}\`) and add it to scripts/install-system-deps.sh`;
}

/** How a finished process ended, with the end of its stderr: for FAIL messages. */
export function describeEnd(result) {
  const how = result.timedOut
    ? `timed out after ${seconds(result.ms)}`
    : result.spawnError
      ? `could not start (${result.spawnError.message})`
      : result.signal
        ? `killed by ${result.signal}`
        : `exit ${result.code}`;
  const tail = result.stderr.trim().split('\n').slice(-6).join(' | ');
  const hint = missingLibraryHint(result.stderr);
  return `${how}${hint ? ` (${hint})` : ''}${tail ? `; stderr: ${tail}` : ''}`;
}

/** Polls probe() until it returns a truthy value; fails naming `what` after timeoutMs. */
export async function waitUntil(what, probe, { timeoutMs = 60_000, intervalMs = 250 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await probe();
    if (last?.value) return last.value;
    if (Date.now() > deadline)
      throw new Error(
        `${what} not seen within ${seconds(timeoutMs)}${last?.why ? `; last: ${last.why}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export { seconds };
