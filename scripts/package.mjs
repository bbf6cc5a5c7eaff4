// npm run package: builds the native lock module for all six targets from source, the minified
// bundles, and one universal VSIX; checks that it holds exactly the allowlisted files
// (.vscodeignore) and one binary per target, and that the host's binary loads in this Node.
//
//   node scripts/package.mjs [--out FILE]
//
// Node-API binaries are ABI-stable, so this one VSIX serves every VS Code: desktop (Electron),
// VS Code Server (Remote-SSH, WSL, containers) and code-server, on every platform it has a binary for.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BINARY_NAME, TARGETS, binaryPath, buildNative, hostTarget } from './build-native.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { out: { type: 'string' } } });
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const vsce = path.join(
  root,
  'node_modules',
  '.bin',
  process.platform === 'win32' ? 'vsce.cmd' : 'vsce',
);

const EXPECTED = [
  'extension/package.json',
  'extension/readme.md',
  'extension/changelog.md',
  'extension/LICENSE.txt',
  'extension/package.nls.json',
  'extension/l10n/bundle.l10n.json',
  ...fs
    .readdirSync(path.join(root, 'media'), { recursive: true })
    .map((f) => `media/${f.split(path.sep).join('/')}`)
    .filter((f) =>
      /^media\/(icon\.png|lock\.svg|screenshot-[\w-]+\.png|walkthrough\/[\w-]+\.md)$/.test(f),
    )
    .map((f) => `extension/${f}`),
  'extension/dist/extension.js',
  'extension/dist/cli.js',
  ...Object.keys(TARGETS).map((t) => `extension/prebuilds/${t}/${BINARY_NAME}`),
];

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`package: \`${cmd} ${args.join(' ')}\` failed (status ${r.status ?? r.signal}).`);
    process.exit(1);
  }
}

try {
  for (const b of buildNative(Object.keys(TARGETS)))
    console.log(`package: built ${b.target} (${(b.bytes / 1024).toFixed(1)} KiB)`);
} catch (err) {
  console.error(`package: ${err.message}`);
  process.exit(1);
}
run(process.execPath, ['esbuild.mjs', '--production']);

const out = path.resolve(values.out ?? path.join(root, `${pkg.name}-${pkg.version}.vsix`));
fs.mkdirSync(path.dirname(out), { recursive: true });
// The bundles carry every JavaScript dependency, so node_modules has nothing to ship. vsce rewrites
// the README's relative links to the repository (images: raw/HEAD, pages: blob/HEAD): the
// Marketplace and Open VSX resolve nothing against the VSIX, and the Extensions view shows the
// same README. The images are shipped too, and the e2e "details page" test checks every one.
run(vsce, ['package', '--no-dependencies', '--out', out]);

// The VSIX is a zip; list it with the tool every machine has here (python3's zipfile).
const listing = execFileSync(
  'python3',
  ['-c', 'import sys,zipfile;print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', out],
  { encoding: 'utf8' },
)
  .trim()
  .split('\n')
  .filter((f) => f.startsWith('extension/'));
const unexpected = listing.filter((f) => !EXPECTED.includes(f));
const missing = EXPECTED.filter((f) => !listing.includes(f));
if (unexpected.length || missing.length) {
  console.error(
    `package: the VSIX does not match the allowlist.\n  unexpected: ${unexpected.join(', ') || '-'}\n  missing: ${missing.join(', ') || '-'}`,
  );
  process.exit(1);
}
if (TARGETS[hostTarget()]) {
  // What the VSIX carries for this machine must load here: a cross-build that is broken shows now.
  execFileSync(process.execPath, [
    '-e',
    `const m = require(${JSON.stringify(binaryPath(hostTarget()))}); if (typeof m.tryLock !== 'function') process.exit(1);`,
  ]);
}
const size = fs.statSync(out).size;
console.log(
  `package: ${path.relative(process.cwd(), out) || out}: ${(size / 1024).toFixed(1)} KiB, ${listing.length} files, native lock module for ${Object.keys(TARGETS).join(', ')}`,
);
