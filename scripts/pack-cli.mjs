// The CLI as an npm package, `toolchain-lock`: the bundled CLI, the six prebuilt native lock
// modules and a README, with no dependencies and no install scripts (nothing builds on install).
// The repository's own package.json stays private (its `prepare` builds the native module); this
// one is written from it, so name, version, license and repository have one source.
//
//   node scripts/pack-cli.mjs [--out DIR] [--prebuilt]
//
// Without --prebuilt the six native modules are cross-built first, as `npm run package` does.
// Prints the tarball's path and size.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { BINARY_NAME, TARGETS, binaryPath, buildNative } from './build-native.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { out: { type: 'string' }, prebuilt: { type: 'boolean' } },
});
const out = path.resolve(values.out ?? root);
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

/** Every file of the package, relative to its root. */
const PACKAGE_FILES = [
  'package.json',
  'README.md',
  'LICENSE',
  'dist/cli.js',
  ...Object.keys(TARGETS).map((t) => `prebuilds/${t}/${BINARY_NAME}`),
];

function fail(message) {
  console.error(`pack-cli: ${message}`);
  process.exit(1);
}

if (!values.prebuilt) {
  try {
    for (const b of buildNative(Object.keys(TARGETS)))
      console.log(`pack-cli: built ${b.target} (${(b.bytes / 1024).toFixed(1)} KiB)`);
  } catch (err) {
    fail(err.message);
  }
}
const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'tcl-pack-cli-'));
try {
  for (const t of Object.keys(TARGETS)) {
    if (!fs.existsSync(binaryPath(t)))
      fail(
        `${binaryPath(t)} is missing: run without --prebuilt (or npm run build:native -- --all)`,
      );
    fs.mkdirSync(path.join(stage, 'prebuilds', t), { recursive: true });
    fs.copyFileSync(binaryPath(t), path.join(stage, 'prebuilds', t, BINARY_NAME));
  }
  await esbuild.build({
    entryPoints: [path.join(root, 'src', 'cli', 'main.ts')],
    outfile: path.join(stage, 'dist', 'cli.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    logLevel: 'warning',
    banner: { js: '#!/usr/bin/env node' },
  });
  fs.chmodSync(path.join(stage, 'dist', 'cli.js'), 0o755);
  fs.copyFileSync(path.join(root, 'packages', 'cli', 'README.md'), path.join(stage, 'README.md'));
  fs.copyFileSync(path.join(root, 'LICENSE'), path.join(stage, 'LICENSE'));
  const manifest = {
    name: pkg.name,
    version: pkg.version,
    description:
      'A shared read/write lock around toolchain updates (rustup and others), so builds and language servers never run from a half-written toolchain.',
    keywords: ['rustup', 'rust', 'toolchain', 'lock', 'flock', 'update', 'cli'],
    license: pkg.license,
    repository: pkg.repository,
    bugs: pkg.bugs,
    homepage: pkg.homepage,
    bin: { 'toolchain-lock': 'dist/cli.js' },
    files: ['dist/cli.js', 'prebuilds/'],
    engines: { node: '>=20' },
  };
  fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  fs.mkdirSync(out, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const [info] = JSON.parse(
    execFileSync(npm, ['pack', '--json', '--pack-destination', out], {
      cwd: stage,
      encoding: 'utf8',
      shell: process.platform === 'win32',
    }),
  );
  const listed = info.files.map((f) => f.path).sort();
  const expected = [...PACKAGE_FILES].sort();
  if (JSON.stringify(listed) !== JSON.stringify(expected))
    fail(`the package does not hold exactly ${expected.join(', ')}: it holds ${listed.join(', ')}`);
  const tarball = path.join(out, info.filename);
  console.log(
    `pack-cli: ${tarball}: ${(fs.statSync(tarball).size / 1024).toFixed(1)} KiB, ${listed.length} files, native lock module for ${Object.keys(TARGETS).join(', ')}`,
  );
} finally {
  fs.rmSync(stage, { recursive: true, force: true });
}
