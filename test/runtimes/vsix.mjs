// The VSIX under test: given with --vsix, else toolchain-lock-<version>.vsix at the repository
// root, built with `npm run package` when it is missing or older than package.json.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TARGETS as BUILD_TARGETS } from '../../scripts/build-native.mjs';
import { repoRoot, runProcess, describeEnd, privateTempDir } from './harness.mjs';

export const TARGETS = Object.freeze(Object.keys(BUILD_TARGETS));

function defaultVsixPath() {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  return path.join(repoRoot, `${pkg.name}-${pkg.version}.vsix`);
}

function isStale(vsix) {
  if (!fs.existsSync(vsix)) return true;
  return fs.statSync(vsix).mtimeMs < fs.statSync(path.join(repoRoot, 'package.json')).mtimeMs;
}

async function packageVsix(logDir) {
  console.log('     building the VSIX: npm run package');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = await runProcess([npm, 'run', 'package'], { logDir, timeoutMs: 20 * 60_000 });
  if (result.code !== 0)
    throw new Error(`npm run package failed: ${describeEnd(result)} (log: ${result.outFile})`);
}

/** The path of the VSIX to test, building it if needed. */
export async function locateVsix(explicitPath, logDir) {
  if (explicitPath) {
    const vsix = path.resolve(explicitPath);
    if (!fs.existsSync(vsix)) throw new Error(`--vsix ${vsix} does not exist`);
    return vsix;
  }
  const vsix = defaultVsixPath();
  if (isStale(vsix)) await packageVsix(logDir);
  if (!fs.existsSync(vsix)) throw new Error(`npm run package did not produce ${vsix}`);
  return vsix;
}

/** Unzips the VSIX (python3's zipfile, which every machine here has) into a new directory. */
export async function extractVsix(vsix, logDir) {
  const dest = privateTempDir('tcl-vsix-');
  const script = 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])';
  const result = await runProcess(['python3', '-c', script, vsix, dest], { logDir });
  if (result.code !== 0) throw new Error(`unzipping ${vsix} failed: ${describeEnd(result)}`);
  const cli = path.join(dest, 'extension', 'dist', 'cli.js');
  if (!fs.existsSync(cli)) throw new Error(`${vsix} has no extension/dist/cli.js`);
  return { root: dest, extension: path.join(dest, 'extension'), cli };
}

/** The native module the VSIX carries for TARGET (platform-arch). */
export function prebuildPath(extracted, target) {
  return path.join(extracted.extension, 'prebuilds', target, 'toolchain_lock.node');
}

/**
 * Locates and extracts the VSIX once: every check that needs it calls the returned function and
 * awaits the same promise. dispose() removes the extracted copy.
 */
export function vsixOnce(explicitPath, logDir) {
  let pending;
  const get = () => {
    pending ??= locateVsix(explicitPath, logDir).then(async (vsix) => ({
      vsix,
      ...(await extractVsix(vsix, logDir)),
    }));
    return pending;
  };
  get.dispose = async () => {
    const extracted = await pending?.catch(() => undefined);
    if (extracted) fs.rmSync(extracted.root, { recursive: true, force: true });
  };
  return get;
}
