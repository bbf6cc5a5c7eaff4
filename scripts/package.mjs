// npm run package: builds the minified bundles and the VSIX, checks that it holds exactly the
// allowlisted files (.vscodeignore) and a native lock module for the runtime that will load it.
//
//   node scripts/package.mjs                      VSIX for Node's ABI (code-server, VS Code Server
//                                                 for Remote-SSH/WSL/containers), from this tree
//   node scripts/package.mjs --target linux-x64 --electron 34.5.8
//                                                 release VSIX for desktop VS Code: fs-ext rebuilt
//                                                 for that Electron in a staging copy (needs the
//                                                 Electron headers, i.e. network access), with
//                                                 `vsce package --target`. Run it on each target
//                                                 platform (native modules do not cross-compile).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { target: { type: 'string' }, electron: { type: 'string' }, out: { type: 'string' } } });
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const vsce = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'vsce.cmd' : 'vsce');

const EXPECTED = [
  'extension/package.json',
  'extension/readme.md',
  'extension/changelog.md',
  'extension/LICENSE.txt',
  'extension/media/icon.png',
  'extension/dist/extension.js',
  'extension/dist/cli.js',
  'extension/node_modules/fs-ext/package.json',
  'extension/node_modules/fs-ext/fs-ext.js',
  'extension/node_modules/fs-ext/LICENSE.txt',
  'extension/node_modules/fs-ext/build/Release/fs_ext.node',
];

function run(cmd, args, cwd = root) {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`package: \`${cmd} ${args.join(' ')}\` failed (status ${r.status ?? r.signal}).`);
    process.exit(1);
  }
}

function hostTarget() {
  const arch = { x64: 'x64', arm64: 'arm64', arm: 'armhf' }[process.arch] ?? process.arch;
  return `${process.platform === 'win32' ? 'win32' : process.platform}-${arch}`;
}

run(process.execPath, ['esbuild.mjs', '--production']);

let cwd = root;
// README links are relative to the repository; the marketplace page is not where people read docs/.
const vsceArgs = ['package', '--allow-missing-repository', '--no-rewrite-relative-links'];
if (values.target || values.electron) {
  if (!values.target || !values.electron) {
    console.error('package: --target and --electron go together, e.g. --target linux-x64 --electron 34.5.8 (the Electron of the VS Code you target: Help → About).');
    process.exit(64);
  }
  if (values.target !== hostTarget()) {
    console.error(`package: fs-ext is native and must be built on ${values.target}; this machine is ${hostTarget()}. Run this script there.`);
    process.exit(64);
  }
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'tcl-package-'));
  for (const f of ['package.json', 'package-lock.json', 'README.md', 'CHANGELOG.md', 'LICENSE', '.vscodeignore', 'media', 'dist']) {
    fs.cpSync(path.join(root, f), path.join(cwd, f), { recursive: true });
  }
  run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], cwd);
  run('npx', ['--yes', '@electron/rebuild@3', '--version', values.electron, '--module-dir', cwd, '--which-module', 'fs-ext', '--force'], cwd);
  vsceArgs.push('--target', values.target);
}

const out = path.resolve(values.out ?? path.join(root, `${pkg.name}-${pkg.version}${values.target ? `-${values.target}` : ''}.vsix`));
fs.mkdirSync(path.dirname(out), { recursive: true });
vsceArgs.push('--out', out);
run(vsce, vsceArgs, cwd);

// The VSIX is a zip; list it with the tool every machine has here (python3's zipfile).
const listing = execFileSync('python3', ['-c', 'import sys,zipfile;print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', out], { encoding: 'utf8' })
  .trim()
  .split('\n')
  .filter((f) => f.startsWith('extension/'));
const unexpected = listing.filter((f) => !EXPECTED.includes(f));
const missing = EXPECTED.filter((f) => !listing.includes(f));
if (unexpected.length || missing.length) {
  console.error(`package: the VSIX does not match the allowlist.\n  unexpected: ${unexpected.join(', ') || '-'}\n  missing: ${missing.join(', ') || '-'}`);
  process.exit(1);
}
if (!values.electron) {
  // The Node build must load in this Node: that is what code-server and VS Code Server run.
  execFileSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(root, 'node_modules', 'fs-ext'))})`]);
}
const size = fs.statSync(out).size;
console.log(`package: ${path.relative(process.cwd(), out) || out} — ${(size / 1024).toFixed(1)} KiB, ${listing.length} files, native lock module for ${values.electron ? `Electron ${values.electron}` : `Node ABI ${process.versions.modules}`}`);
