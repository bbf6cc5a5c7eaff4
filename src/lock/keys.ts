import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A toolchain as the engine sees it: a display name and its canonical directory. */
export interface Toolchain {
  readonly name: string;
  readonly path: string;
}

/**
 * The canonical form of a toolchain directory: the real path of its deepest existing ancestor
 * with the rest appended. A toolchain being installed may not exist yet; its key must not change
 * when the install creates it under a symlinked ancestor (`/opt/current -> /opt/llvm-14`).
 */
export function canonicalToolchainPath(dir: string): string {
  const absolute = path.resolve(dir);
  const missing: string[] = [];
  for (let existing = absolute; ; ) {
    try {
      return path.join(fs.realpathSync.native(existing), ...missing.reverse());
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return absolute;
      missing.push(path.basename(existing));
      existing = parent;
    }
  }
}

/** The file-name stem for a toolchain's lock files: readable name plus a short hash of its path. */
export function toolchainKey(toolchainPath: string): string {
  const canonical = canonicalToolchainPath(toolchainPath);
  const hash = createHash('sha256').update(canonical).digest('hex').slice(0, 12);
  // Per Unicode code point (the `u` flag), as PROTOCOL.md says: an emoji is one "_", not two.
  const readable = path.basename(canonical).replace(/[^A-Za-z0-9._-]/gu, '_').replace(/^\.+/, '').slice(0, 64);
  return `${readable || 'root'}-${hash}`;
}

/** Keys look like `name-0123456789ab`; anything else in the lock directory is not ours. */
export function isToolchainKey(s: string): boolean {
  return /^[A-Za-z0-9._-]{1,64}-[0-9a-f]{12}$/.test(s);
}
