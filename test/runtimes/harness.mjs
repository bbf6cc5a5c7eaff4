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
export function startProcess(argv, { env = process.env, cwd = repoRoot, logDir, timeoutMs = 60_000 }) {
  const stem = path.join(logDir, `${++outputSerial}-${path.basename(argv[0]).replace(/\W+/g, '_')}`);
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
  return tail ? `${how}; stderr: ${tail}` : how;
}

/** Polls probe() until it returns a truthy value; fails naming `what` after timeoutMs. */
export async function waitUntil(what, probe, { timeoutMs = 60_000, intervalMs = 250 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await probe();
    if (last?.value) return last.value;
    if (Date.now() > deadline) throw new Error(`${what} not seen within ${seconds(timeoutMs)}${last?.why ? `; last: ${last.why}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export { seconds };
