import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A toolchain as the engine sees it: a display name and its canonical directory. */
export interface Toolchain {
  readonly name: string;
  readonly path: string;
}

/** The canonical form of a toolchain directory: its real path when it exists, else the absolute path. */
export function canonicalToolchainPath(dir: string): string {
  const absolute = path.resolve(dir);
  try {
    return fs.realpathSync.native(absolute);
  } catch {
    // A toolchain being installed or removed may not exist yet; the lock must still be nameable.
    return absolute;
  }
}

/** The file-name stem for a toolchain's lock files: readable name plus a short hash of its path. */
export function toolchainKey(toolchainPath: string): string {
  const canonical = canonicalToolchainPath(toolchainPath);
  const hash = createHash('sha256').update(canonical).digest('hex').slice(0, 12);
  const readable = path.basename(canonical).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '').slice(0, 64);
  return `${readable || 'root'}-${hash}`;
}

/** Keys look like `name-0123456789ab`; anything else in the lock directory is not ours. */
export function isToolchainKey(s: string): boolean {
  return /^[A-Za-z0-9._-]{1,64}-[0-9a-f]{12}$/.test(s);
}
