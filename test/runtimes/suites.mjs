// Check (a): the unit and integration suites under another Node, against the dist/ built by the
// default Node and the host prebuild (both runtime-independent thanks to Node-API).
//
// The test files are listed here instead of passing test/unit/ and test/integration/: since Node 21
// `node --test` takes its arguments as files or globs, and a directory fails ("Cannot find module
// .../test/unit"). The list is what Node 20 runs for those directories: files named *.test.*,
// *-test.*, *_test.*, test-*.* or test.* with a .js/.cjs/.mjs extension.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeEnd, expect, repoRoot, runProcess, seconds } from './harness.mjs';

export const SUITE_DIRS = Object.freeze(['test/unit', 'test/integration']);
const TEST_TIMEOUT_MS = 180_000;
const TEST_FILE = /^(test|test-.+|.+[.\-_]test)\.[cm]?js$/;

/** Test files of the suites, relative to the repository, in a stable order. */
export function suiteFiles() {
  const files = [];
  const visit = (dir) => {
    for (const entry of fs
      .readdirSync(path.join(repoRoot, dir), { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(rel);
      else if (TEST_FILE.test(entry.name)) files.push(rel);
    }
  };
  SUITE_DIRS.forEach(visit);
  return files;
}

/** Host prebuild the suites load; it comes from `npm ci`. */
export function hostPrebuild() {
  return path.join(
    repoRoot,
    'prebuilds',
    `${process.platform}-${process.arch}`,
    'toolchain_lock.node',
  );
}

/** `npm run build` with the Node running this script (the default Node 20), once. */
export function buildOnce(logDir) {
  let pending;
  return () => {
    pending ??= runProcess([process.platform === 'win32' ? 'npm.cmd' : 'npm', 'run', 'build'], {
      logDir,
      timeoutMs: 10 * 60_000,
    }).then((r) => {
      if (r.code !== 0) throw new Error(`npm run build failed: ${describeEnd(r)}`);
      return r.ms;
    });
    return pending;
  };
}

/** "# pass N" / "# fail N" and the failed tests of a TAP log. */
function tapSummary(tap) {
  const count = (key) => Number(tap.match(new RegExp(`^# ${key} (\\d+)$`, 'm'))?.[1] ?? NaN);
  const failed = [...tap.matchAll(/^\s*not ok \d+ - (.+)$/gm)].map((m) => m[1]);
  return {
    tests: count('tests'),
    pass: count('pass'),
    fail: count('fail'),
    cancelled: count('cancelled'),
    failed,
  };
}

/** Runs the suites under RUNTIME (from nodeRuntime); returns a detail line with the timing. */
export async function runSuites(runtime, build, logDir) {
  expect(
    fs.existsSync(hostPrebuild()),
    `${hostPrebuild()} is missing: run npm ci (it builds the host prebuild)`,
  );
  await build();
  const files = suiteFiles();
  expect(files.length > 0, `no test files in ${SUITE_DIRS.join(', ')}`);
  // Tests that start `node` by name get the runtime under test too.
  const env = {
    ...process.env,
    PATH: `${path.dirname(runtime.bin)}${path.delimiter}${process.env.PATH}`,
  };
  // --test-timeout: a hung test fails under its own name instead of stalling the whole check.
  const argv = [
    runtime.bin,
    '--test',
    '--test-concurrency=1',
    `--test-timeout=${TEST_TIMEOUT_MS}`,
    '--test-reporter=tap',
    ...files,
  ];
  const result = await runProcess(argv, { env, logDir, timeoutMs: 60 * 60_000 });
  const tap = tapSummary(result.stdout);
  const where = `(log: ${result.outFile})`;
  expect(!result.timedOut, `timed out after ${seconds(result.ms)} ${where}`);
  expect(Number.isFinite(tap.tests), `no TAP summary: ${describeEnd(result)} ${where}`);
  expect(
    result.code === 0 && tap.fail === 0 && tap.cancelled === 0,
    `${tap.fail} failed, ${tap.cancelled} cancelled of ${tap.tests}: ${tap.failed.slice(0, 5).join('; ')} ${where}`,
  );
  return `Node ${runtime.version}: ${tap.pass}/${tap.tests} tests in ${files.length} files passed in ${seconds(result.ms)}`;
}
