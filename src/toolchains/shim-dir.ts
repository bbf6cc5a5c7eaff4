// A shim directory: where it is by default, which programs get a shim (rustup and its proxies),
// writing them (only what changed, never over a file that is not ours) and removing them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ToolchainError } from './errors';
import { homeDir } from './rustup';
import { pathEntries, programIn } from './shim-path';
import {
  SHIM_MANIFEST,
  SHIM_NAME,
  SHIM_SIGNATURE,
  shimFileName,
  shimScript,
  type ShimRuntime,
} from './shim-script';

/** Overrides the default shim directory (the extension sets it in its terminals to its own). */
export const SHIM_DIR_ENV = 'TOOLCHAIN_LOCK_SHIM_DIR';

/**
 * The default shim directory: $TOOLCHAIN_LOCK_SHIM_DIR, else under the user's data directory —
 * `$XDG_DATA_HOME/toolchain-lock/shims` (default ~/.local/share) on Linux and other Unix,
 * ~/Library/Application Support/toolchain-lock/shims on macOS, %LOCALAPPDATA%\toolchain-lock\shims on Windows.
 */
export function defaultShimDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (env[SHIM_DIR_ENV]) return path.resolve(env[SHIM_DIR_ENV]);
  const home = homeDir(env);
  if (platform === 'win32')
    return path.join(
      env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'),
      'toolchain-lock',
      'shims',
    );
  if (platform === 'darwin')
    return path.join(home, 'Library', 'Application Support', 'toolchain-lock', 'shims');
  // The XDG spec: a relative value is invalid and ignored.
  const data =
    env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME)
      ? env.XDG_DATA_HOME
      : path.join(home, '.local', 'share');
  return path.join(data, 'toolchain-lock', 'shims');
}

/** Where rustup installs itself and its proxies: $CARGO_HOME/bin, default ~/.cargo/bin. */
export function cargoBinDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(
    env.CARGO_HOME ? path.resolve(env.CARGO_HOME) : path.join(homeDir(env), '.cargo'),
    'bin',
  );
}

/**
 * The real rustup: the one in $CARGO_HOME/bin (default ~/.cargo/bin), else the first on PATH
 * outside `shimDir` and other shim directories. Throws E_NO_RUSTUP naming where it looked.
 */
export function findRustup(shimDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const cargoBin = cargoBinDir(env);
  const inCargo = programIn(cargoBin, 'rustup', env);
  if (inCargo) return inCargo;
  for (const dir of pathEntries(env)) {
    if (dir === shimDir || fs.existsSync(path.join(dir, SHIM_MANIFEST))) continue;
    const found = programIn(dir, 'rustup', env);
    if (found) return found;
  }
  throw new ToolchainError(
    'E_NO_RUSTUP',
    `No rustup found: not in ${cargoBin}, nor on PATH. Install rustup (https://rustup.rs) first; its proxies (cargo, rustc, ...) are what the shims stand in front of.`,
  );
}

/** The programs beside `rustup` that are rustup itself (links or copies of the same file): its proxies, with rustup. */
export function rustupPrograms(rustup: string): string[] {
  const dir = path.dirname(rustup);
  const self = fs.statSync(rustup);
  const names = new Set<string>(['rustup']);
  for (const entry of fs.readdirSync(dir)) {
    const program = entry.replace(/\.exe$/i, '');
    if (!SHIM_NAME.test(program)) continue;
    try {
      const st = fs.statSync(path.join(dir, entry));
      if (st.isFile() && st.dev === self.dev && st.ino === self.ino) names.add(program);
    } catch {
      // A dangling link is no proxy.
    }
  }
  return [...names].sort();
}

interface Manifest {
  readonly programs: readonly string[];
}

function readManifest(dir: string): Manifest | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(dir, SHIM_MANIFEST), 'utf8')) as {
      programs?: unknown;
    };
    return {
      programs: Array.isArray(parsed.programs)
        ? parsed.programs.filter((p): p is string => typeof p === 'string' && SHIM_NAME.test(p))
        : [],
    };
  } catch {
    return null;
  }
}

/** True when `file` is a shim we wrote (its second line carries the signature). */
function isOurShim(file: string): boolean {
  try {
    const head = fs.readFileSync(file, 'utf8').slice(0, 400).split(/\r?\n/)[1] ?? '';
    return head.includes(SHIM_SIGNATURE);
  } catch {
    return false;
  }
}

/**
 * Writes `file` (only when its text changed) beside and renames: a shell running the old script
 * never reads half a file.
 */
export function writeAtomically(file: string, text: string, mode = 0o755): void {
  let current: string | null = null;
  try {
    current = fs.readFileSync(file, 'utf8');
  } catch {
    // Not there yet.
  }
  if (current !== text) {
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, text, { mode });
    fs.renameSync(temp, file);
  }
  fs.chmodSync(file, mode);
}

/** What `installShims` did. */
export interface ShimInstall {
  readonly dir: string;
  readonly programs: readonly string[];
  /** Shims of an earlier install whose program rustup no longer has, now removed. */
  readonly removed: readonly string[];
}

/**
 * Writes one shim per program into `dir` (created if needed) and the manifest naming them; shims
 * of an earlier install that are no longer wanted are removed. Refuses to replace a file that is
 * not a shim of ours, before writing anything.
 */
export function installShims(
  dir: string,
  programs: readonly string[],
  runtime: ShimRuntime,
  platform: NodeJS.Platform = process.platform,
): ShimInstall {
  const absolute = path.resolve(dir);
  try {
    fs.mkdirSync(absolute, { recursive: true });
  } catch (cause) {
    throw new ToolchainError(
      'E_SHIM_DIR',
      `Cannot create the shim directory ${absolute}: ${(cause as Error).message}`,
      [],
      { cause },
    );
  }
  const foreign = programs
    .map((p) => path.join(absolute, shimFileName(p, platform)))
    .filter((f) => fs.existsSync(f) && !isOurShim(f));
  if (foreign.length > 0) {
    throw new ToolchainError(
      'E_SHIM_DIR',
      `Not writing shims into ${absolute}: ${foreign.join(', ')} ${foreign.length === 1 ? 'is' : 'are'} not a toolchain-lock shim. Choose an empty directory with --dir, or move ${foreign.length === 1 ? 'it' : 'them'} away.`,
    );
  }
  const previous = readManifest(absolute)?.programs ?? [];
  // The manifest first: from now on the directory is a shim directory, which no shim runs from.
  writeAtomically(
    path.join(absolute, SHIM_MANIFEST),
    `${JSON.stringify({ programs: [...new Set([...previous, ...programs])].sort() }, null, 2)}\n`,
    0o644,
  );
  for (const p of programs)
    writeAtomically(
      path.join(absolute, shimFileName(p, platform)),
      shimScript(p, absolute, runtime, platform),
    );
  const removed = previous.filter(
    (p) => !programs.includes(p) && removeShim(path.join(absolute, shimFileName(p, platform))),
  );
  writeAtomically(
    path.join(absolute, SHIM_MANIFEST),
    `${JSON.stringify({ programs: [...programs].sort() }, null, 2)}\n`,
    0o644,
  );
  return { dir: absolute, programs: [...programs].sort(), removed };
}

function removeShim(file: string): boolean {
  if (!isOurShim(file)) return false;
  fs.rmSync(file, { force: true });
  return true;
}

/**
 * Removes the shims of `dir` (only files that are shims of ours), then the manifest, then the
 * directory if nothing else is left in it. Returns the programs whose shims were removed.
 */
export function uninstallShims(
  dir: string,
  platform: NodeJS.Platform = process.platform,
): string[] {
  const absolute = path.resolve(dir);
  const manifest = readManifest(absolute);
  const listed = manifest?.programs ?? [];
  // Shims the manifest lost track of (an interrupted install) are ours too when signed.
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(absolute);
  } catch {
    return [];
  }
  const candidates = new Set([
    ...listed.map((p) => shimFileName(p, platform)),
    ...entries.filter((e) => !e.startsWith('.')),
  ]);
  const removed: string[] = [];
  for (const name of candidates) {
    if (removeShim(path.join(absolute, name)))
      removed.push(platform === 'win32' ? name.replace(/\.cmd$/i, '') : name);
  }
  fs.rmSync(path.join(absolute, SHIM_MANIFEST), { force: true });
  try {
    fs.rmdirSync(absolute);
  } catch {
    // Something else lives there: leave the directory.
  }
  return removed.sort();
}
