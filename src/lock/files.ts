import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Toolchain } from './keys';
import { PROTOCOL_VERSION } from './records';

/** The read/write lock file: readers LOCK_SH, the writer LOCK_EX. Never unlinked. */
export function lockFilePath(dir: string, key: string): string {
  return path.join(dir, `${key}.lock`);
}

/** The writer gate: a writer holds it LOCK_EX from announcement to release; readers pass it LOCK_SH. */
export function gateFilePath(dir: string, key: string): string {
  return path.join(dir, `${key}.gate`);
}

/** Names the toolchain a key stands for, so `status` can say more than a hash. */
export function metaFilePath(dir: string, key: string): string {
  return path.join(dir, `${key}.toolchain.json`);
}

/** Writes the key's toolchain description once (atomically) if it is missing or names another path. */
export function writeMeta(dir: string, key: string, toolchain: Toolchain): void {
  const existing = readMeta(dir, key);
  if (existing && existing.path === toolchain.path) return;
  const file = metaFilePath(dir, key);
  // Created exclusively under a name nobody can guess: in a shared directory a link planted at a
  // predictable name would make us write through it.
  const temp = `${path.join(dir, '.' + path.basename(file))}.${process.pid}.${randomBytes(3).toString('hex')}.tmp`;
  fs.writeFileSync(
    temp,
    JSON.stringify({ protocol: PROTOCOL_VERSION, name: toolchain.name, path: toolchain.path }) +
      '\n',
    { mode: 0o644, flag: 'wx' },
  );
  try {
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
}

/** Reads the key's toolchain description; null when absent or unreadable. */
export function readMeta(dir: string, key: string): Toolchain | null {
  try {
    const raw = fs.readFileSync(metaFilePath(dir, key), 'utf8');
    if (raw.length > 64 * 1024) return null;
    const v = JSON.parse(raw) as { name?: unknown; path?: unknown };
    return typeof v.path === 'string'
      ? { name: typeof v.name === 'string' ? v.name : path.basename(v.path), path: v.path }
      : null;
  } catch {
    return null;
  }
}
