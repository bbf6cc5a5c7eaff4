// The control of the Code.exe check: a module that imports Node-API from "node.exe" by name (what a
// plain MinGW or MSVC link against node.lib produces) loads under node.exe but must fail under
// Code.exe. If it loaded there too, the Code.exe check would prove nothing.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeEnd, expect, findTool, privateTempDir, runProcess } from './harness.mjs';
import { wineEnv, windowsPath } from './platforms.mjs';

const IMPORT_DEF = 'LIBRARY node.exe\nEXPORTS\nnapi_create_string_utf8\n';
const MODULE_C = `typedef void *napi_env;
typedef void *napi_value;
int napi_create_string_utf8(napi_env env, const char *s, unsigned long long n, napi_value *out);
__declspec(dllexport) napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  napi_value s;
  napi_create_string_utf8(env, "loaded", 6, &s);
  return s;
}
__declspec(dllexport) int node_api_module_get_api_version_v1(void) { return 8; }
`;

/** Builds the node.exe-importing module with MinGW; returns its host path. */
async function buildNodeImportingModule(dir) {
  const gcc = findTool('x86_64-w64-mingw32-gcc');
  const dlltool = findTool('x86_64-w64-mingw32-dlltool');
  expect(
    gcc && dlltool,
    'x86_64-w64-mingw32-gcc/dlltool not installed (apt-get install mingw-w64)',
  );
  fs.writeFileSync(path.join(dir, 'node.def'), IMPORT_DEF);
  fs.writeFileSync(path.join(dir, 'module.c'), MODULE_C);
  const options = { cwd: dir, logDir: dir };
  const lib = await runProcess([dlltool, '-d', 'node.def', '-l', 'libnode.a'], options);
  expect(lib.code === 0, `dlltool: ${describeEnd(lib)}`);
  const module = path.join(dir, 'node-importing.node');
  const cc = await runProcess([gcc, '-shared', '-o', module, 'module.c', 'libnode.a'], options);
  expect(cc.code === 0, `mingw gcc: ${describeEnd(cc)}`);
  return module;
}

/** Result of require(MODULE) under EXE in wine. */
function requireUnder(wine, prefix, exe, module, logDir) {
  const script = `console.log(require(${JSON.stringify(windowsPath(module))}))`;
  return runProcess([wine, exe, '-e', script], {
    env: { ...process.env, ...wineEnv(prefix) },
    logDir,
    timeoutMs: 120_000,
  });
}

/** Passes when the node.exe-importing module loads as node.exe and fails as Code.exe. */
export async function codeExeControl(wine, prefix, nodeExe, codeExe) {
  const dir = privateTempDir('tcl-wine-control-');
  const module = await buildNodeImportingModule(dir);
  const asNode = await requireUnder(wine, prefix, nodeExe, module, dir);
  expect(
    asNode.code === 0 && asNode.stdout.trim() === 'loaded',
    `the control module should load under node.exe: ${describeEnd(asNode)} (logs: ${dir})`,
  );
  const asCode = await requireUnder(wine, prefix, codeExe, module, dir);
  expect(
    asCode.code !== 0,
    `a module importing from node.exe loaded under Code.exe: the Code.exe check proves nothing (logs: ${dir})`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
  const reason = asCode.stderr.match(/Error: [^\n]*/)?.[0] ?? describeEnd(asCode);
  return `a module importing from node.exe loads as node.exe, fails as Code.exe (${reason})`;
}
