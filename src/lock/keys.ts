import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A toolchain as the engine sees it: a display name and its canonical directory. */
export interface Toolchain {
  readonly name: string;
  readonly path: string;
}

/**
 * The canonical form of a toolchain directory (PROTOCOL.md §2). A path whose last component is a
 * name that is a symbolic link (`/opt/current -> llvm-14`, flipped by A/B updaters) is that link,
 * its parent made real: one toolchain, one lock, across flips. Otherwise the real path of its
 * deepest existing ancestor with the rest appended: a toolchain being installed may not exist
 * yet, and its key must not change when the install creates it under a symlinked ancestor.
 * `..` and `.` are resolved as the kernel resolves them (after the links before them), never
 * textually first: `linkfar/../plain` is the `plain` beside linkfar's target, and `link/.` is the
 * target itself. Trailing separators are ignored.
 */
export function canonicalToolchainPath(dir: string): string {
  // A trailing separator is dropped (`current/`, as shells complete it, is still the link).
  const raw = absoluteUnnormalized(dir);
  const absolute = path.parse(raw).root === raw ? raw : raw.replace(/[\\/]+$/, '');
  const last = lastComponent(absolute);
  if (last !== '' && last !== '.' && last !== '..' && isSymlink(absolute)) {
    return path.join(realAncestry(absolute.slice(0, absolute.length - last.length)), last);
  }
  return realAncestry(absolute);
}

/** `dir` made absolute against the working directory, with `..` and `.` left for the kernel. */
function absoluteUnnormalized(dir: string): string {
  if (path.isAbsolute(dir)) return dir;
  const cwd = process.cwd();
  return cwd.endsWith(path.sep) ? cwd + dir : cwd + path.sep + dir;
}

function lastComponent(p: string): string {
  const parts = p.split(path.sep === '\\' ? /[\\/]/ : /\//);
  return parts[parts.length - 1] ?? '';
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * The real path of the deepest existing ancestor of `absolute`, with the rest appended (there,
 * where nothing exists to resolve, `..` and `.` apply textually).
 */
function realAncestry(absolute: string): string {
  const missing: string[] = [];
  for (let existing = absolute; ;) {
    try {
      return path.join(fs.realpathSync.native(existing), ...missing.reverse());
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return path.resolve(absolute);
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
  const readable = path
    .basename(canonical)
    .replace(/[^A-Za-z0-9._-]/gu, '_')
    .replace(/^\.+/, '')
    .slice(0, 64);
  return `${readable || 'root'}-${hash}`;
}

/** Keys look like `name-0123456789ab`; anything else in the lock directory is not ours. */
export function isToolchainKey(s: string): boolean {
  return /^[A-Za-z0-9._-]{1,64}-[0-9a-f]{12}$/.test(s);
}
