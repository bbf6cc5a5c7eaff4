// Format checks of the prebuilt native modules, for the targets this machine cannot run:
//   Linux:   ELF of the right machine, exporting napi_register_module_v1.
//   macOS:   Mach-O of the right CPU, napi_* undefined and looked up at run time (dynamic_lookup
//            or a flat namespace), arm64 code-signed (LC_CODE_SIGNATURE; macOS kills unsigned
//            arm64 code).
//   Windows: PE32+ of the right machine that imports nothing from node.exe (the host is Code.exe
//            in VS Code; Node-API is resolved from the host module at run time).
import * as fs from 'node:fs';
import { describeEnd, expect, findTool, runProcess } from './harness.mjs';

/** What `file` must say, and the rest of the check, per target. */
export const BINARY_CHECKS = Object.freeze({
  'linux-x64': { file: /^ELF 64-bit LSB shared object, x86-64\b/, check: checkElf },
  'linux-arm64': { file: /^ELF 64-bit LSB shared object, ARM aarch64\b/, check: checkElf },
  'darwin-x64': { file: /^Mach-O 64-bit .*x86_64/, cpu: 'X86_64', check: checkMachO },
  'darwin-arm64': { file: /^Mach-O 64-bit .*arm64/, cpu: 'ARM64', signed: true, check: checkMachO },
  'win32-x64': { file: /^PE32\+ executable \(DLL\).* x86-64/, check: checkPe },
  'win32-arm64': { file: /^PE32\+ executable \(DLL\).* Aarch64/, check: checkPe },
});

function tools() {
  const file = findTool('file');
  const objdump = findTool('llvm-objdump', '/usr/lib/llvm-14/bin/llvm-objdump');
  const nm = findTool('llvm-nm', '/usr/lib/llvm-14/bin/llvm-nm');
  const missing = [!file && 'file', !objdump && 'llvm-objdump', !nm && 'llvm-nm'].filter(Boolean);
  if (missing.length)
    throw new Error(`${missing.join(', ')} not installed (apt-get install file llvm)`);
  return { file, objdump, nm };
}

/** Runs a tool and returns its stdout; a failure of the tool fails the check. */
async function output(argv, logDir) {
  const result = await runProcess(argv, { logDir, timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(`${argv.slice(0, -1).join(' ')}: ${describeEnd(result)}`);
  return result.stdout;
}

const napiNames = (text) => [...new Set(text.match(/\b_?napi_\w+/g) ?? [])];

async function checkElf(binary, _spec, t, logDir) {
  const exported = await output([t.nm, '-D', '--defined-only', binary], logDir);
  expect(/\bnapi_register_module_v1\b/.test(exported), 'does not export napi_register_module_v1');
  const undefinedNapi = napiNames(await output([t.nm, '-D', '-u', binary], logDir));
  return `exports napi_register_module_v1; ${undefinedNapi.length} napi_* imported from the host`;
}

/** The mach header line of `llvm-objdump --macho --private-headers`: cputype, flags. */
function machHeader(headers) {
  const line = headers.split('\n').find((l) => /^\s*MH_MAGIC/.test(l));
  expect(line, 'no Mach-O header in llvm-objdump --macho --private-headers');
  const fields = line.trim().split(/\s+/);
  return { cpu: fields[1], flags: fields.slice(7) };
}

async function checkMachO(binary, spec, t, logDir) {
  const headers = await output([t.objdump, '--macho', '--private-headers', binary], logDir);
  const header = machHeader(headers);
  expect(header.cpu === spec.cpu, `cputype ${header.cpu}, expected ${spec.cpu}`);
  const twoLevel = header.flags.includes('TWOLEVEL');
  const undefinedLines = (await output([t.nm, '-m', '-u', binary], logDir))
    .split('\n')
    .filter((l) => /\b_napi_\w+/.test(l));
  expect(
    undefinedLines.length > 0,
    'no undefined _napi_* symbols (Node-API must come from the host)',
  );
  const bound = undefinedLines.filter((l) => twoLevel && !l.includes('dynamically looked up'));
  expect(
    bound.length === 0,
    `napi_* bound to a library instead of looked up at run time: ${bound.slice(0, 3).join('; ').trim()}`,
  );
  const exported = await output([t.nm, '-g', '--defined-only', binary], logDir);
  expect(/\b_napi_register_module_v1\b/.test(exported), 'does not export _napi_register_module_v1');
  const signed = /\bcmd LC_CODE_SIGNATURE\b/.test(headers);
  if (spec.signed)
    expect(
      signed,
      'no LC_CODE_SIGNATURE load command (unsigned arm64 code does not load on macOS)',
    );
  const lookup = twoLevel ? 'dynamic_lookup' : 'flat namespace';
  return `${header.cpu}, ${undefinedLines.length} napi_* undefined (${lookup})${signed ? ', LC_CODE_SIGNATURE' : ''}`;
}

/** DLL names of the import tables in `llvm-objdump -p` (the export table says "DLL name:"). */
function importedDlls(privateHeaders) {
  return [...new Set([...privateHeaders.matchAll(/DLL Name: (\S+)/g)].map((m) => m[1]))];
}

/** Size of the delay-import directory (llvm-objdump 14 does not list delay-loaded DLLs). */
function delayImportSize(privateHeaders) {
  const entry = privateHeaders.match(/^Entry d \S+ (\S+) Delay Import Directory/m);
  return entry ? Number.parseInt(entry[1], 16) : 0;
}

async function checkPe(binary, _spec, t, logDir) {
  const headers = await output([t.objdump, '-p', binary], logDir);
  const dlls = importedDlls(headers);
  const fromNode = dlls.filter((d) => /^node(\.exe)?$/i.test(d));
  expect(
    fromNode.length === 0,
    `imports from ${fromNode.join(', ')} (fails to load when the host is Code.exe)`,
  );
  const delayed = delayImportSize(headers) > 0;
  // node-gyp's way (delay-load node.exe plus a hook) still names node.exe: refuse that too.
  expect(
    !(delayed && /node\.exe/i.test(fs.readFileSync(binary, 'latin1'))),
    'delay-loads from node.exe',
  );
  expect(
    /^\s+\d+\s+0x[0-9a-f]+\s+napi_register_module_v1$/m.test(headers),
    'does not export napi_register_module_v1',
  );
  return `imports only ${dlls.join(', ') || 'nothing'}${delayed ? ' (+ delay imports, none from node.exe)' : ''}; exports napi_register_module_v1`;
}

/** Checks the prebuilt module of TARGET at BINARY; returns a one-line detail. */
export async function checkBinary(target, binary, logDir) {
  const spec = BINARY_CHECKS[target];
  expect(spec, `no format check for target ${target}`);
  expect(fs.existsSync(binary), `${binary} is missing`);
  const t = tools();
  const kind = (await output([t.file, '-b', binary], logDir)).trim();
  expect(spec.file.test(kind), `file says "${kind}", expected ${spec.file}`);
  const detail = await spec.check(binary, spec, t, logDir);
  return `${kind.split(', flags:')[0].split(',').slice(0, 2).join(',')}; ${detail}`;
}
