import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RecordedProcesses } from './os';

/** Version of the on-disk record format (docs/PROTOCOL.md). Newer records are ignored, not trusted. */
export const PROTOCOL_VERSION = 1;
/** Records are small; anything larger is corrupt or hostile. */
export const MAX_RECORD_BYTES = 64 * 1024;

export type LockMode = 'read' | 'write';
/** `waiting` for a writer is the intent record (update pending); `held` is an active holder. */
export type RecordState = 'waiting' | 'held';

/** What a holder or waiter publishes about itself beside the lock. */
export interface HolderRecord extends RecordedProcesses {
  readonly protocol: number;
  readonly id: string;
  readonly toolchain: { readonly name: string; readonly path: string };
  readonly mode: LockMode;
  readonly state: RecordState;
  readonly user: string;
  readonly uid: number | null;
  /** Who takes part: "cli", "vscode", or another tool's name. */
  readonly client: string;
  /** The program and arguments of the holder, or what the writer runs. */
  readonly command: readonly string[];
  readonly purpose: string | null;
}

/** A record file as found on disk, with its file name for removal. */
export interface StoredRecord {
  readonly file: string;
  readonly record: HolderRecord;
}

/** A new random record id. */
export function newRecordId(): string {
  return randomBytes(6).toString('hex');
}

/** The record file name for a key and id; the lock files of that key share the prefix. */
export function recordFileName(key: string, id: string): string {
  return `${key}~${id}.json`;
}

/** Splits a record file name into key and id, or undefined when it is not a record file. */
export function parseRecordFileName(name: string): { key: string; id: string } | undefined {
  const m = /^(.+)~([0-9a-f]{12})\.json$/.exec(name);
  return m ? { key: m[1]!, id: m[2]! } : undefined;
}

/** Writes a record atomically: readers see the old one or the new one, never half of one. */
export function writeRecord(dir: string, key: string, record: HolderRecord): void {
  const final = path.join(dir, recordFileName(key, record.id));
  const temp = path.join(
    dir,
    `.${recordFileName(key, record.id)}.${process.pid}.${randomBytes(3).toString('hex')}.tmp`,
  );
  fs.writeFileSync(temp, JSON.stringify(record, null, 1), { mode: 0o644, flag: 'wx' });
  try {
    fs.renameSync(temp, final);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
}

/** Removes a record file; one already gone is fine. */
export function removeRecordFile(dir: string, file: string): void {
  try {
    fs.unlinkSync(path.join(dir, file));
  } catch {
    // Another party may have removed it as stale first.
  }
}

// The temporary files of atomic writes (records, toolchain descriptions): `.NAME.PID.RANDOM.tmp`.
const TEMPORARY = /^\..+\.\d+\.[0-9a-f]{6}\.tmp$/;
// A write renames its temporary file within microseconds; one this old was left by a writer killed
// in between. Old enough that clock skew on a network file system cannot make a fresh one look so.
const ABANDONED_AFTER_MS = 5 * 60_000;

/** Removes, of these temporary files in `dir`, those that writers killed between writing and renaming left behind; returns them. */
export function sweepTemporaryFiles(
  dir: string,
  names: readonly string[],
  now = Date.now(),
): string[] {
  const removed: string[] = [];
  for (const name of names) {
    try {
      const st = fs.lstatSync(path.join(dir, name));
      if (!st.isFile() || now - st.mtimeMs <= ABANDONED_AFTER_MS) continue;
      fs.unlinkSync(path.join(dir, name));
      removed.push(name);
    } catch {
      // Renamed or removed meanwhile, or not ours to remove (a sticky directory).
    }
  }
  return removed;
}

/** Why a record file was ignored. */
export interface RecordProblem {
  readonly file: string;
  readonly reason: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates parsed JSON as a record of our protocol version; returns the reason when it is not. */
export function validateRecord(v: unknown): HolderRecord | string {
  if (!isObject(v)) return 'not a JSON object';
  if (typeof v.protocol !== 'number') return 'no protocol version';
  if (v.protocol > PROTOCOL_VERSION)
    return `protocol version ${v.protocol} is newer than this tool's (${PROTOCOL_VERSION}); update Toolchain Lock`;
  if (v.protocol < 1) return `unknown protocol version ${v.protocol}`;
  if (v.mode !== 'read' && v.mode !== 'write') return 'mode is neither read nor write';
  if (v.state !== 'waiting' && v.state !== 'held') return 'state is neither waiting nor held';
  if (typeof v.pid !== 'number' || !Number.isInteger(v.pid) || v.pid <= 0)
    return 'pid is not a positive integer';
  if (typeof v.host !== 'string') return 'host is missing';
  if (typeof v.since !== 'string' || Number.isNaN(Date.parse(v.since)))
    return 'since is not a time';
  if (typeof v.id !== 'string') return 'id is missing';
  if (!isObject(v.toolchain) || typeof v.toolchain.path !== 'string') return 'toolchain is missing';
  const command =
    Array.isArray(v.command) && v.command.every((a) => typeof a === 'string') ? v.command : [];
  const children = Array.isArray(v.children)
    ? v.children.filter(
        (c): c is { pid: number; startTime: string | null } =>
          isObject(c) && typeof c.pid === 'number',
      )
    : [];
  const str = (x: unknown): string | null => (typeof x === 'string' ? x : null);
  return {
    protocol: v.protocol,
    id: v.id,
    toolchain: {
      name: str(v.toolchain.name) ?? path.basename(v.toolchain.path),
      path: v.toolchain.path,
    },
    mode: v.mode,
    state: v.state,
    pid: v.pid,
    startTime: str(v.startTime),
    host: v.host,
    bootId: str(v.bootId),
    pidNamespace: str(v.pidNamespace),
    user: str(v.user) ?? 'unknown',
    uid: typeof v.uid === 'number' ? v.uid : null,
    client: str(v.client) ?? 'unknown',
    command,
    purpose: str(v.purpose),
    since: v.since,
    children: children.map((c) => ({ pid: c.pid, startTime: str(c.startTime) })),
  };
}

/** Reads every record of `key` (or of all keys, or just `onlyFile`) in the directory; broken ones are reported, not thrown. */
export function readRecords(
  dir: string,
  key?: string,
  onlyFile?: string,
): {
  records: StoredRecord[];
  problems: RecordProblem[];
  byKey: Map<string, StoredRecord[]>;
  temporary: string[];
} {
  const records: StoredRecord[] = [];
  const problems: RecordProblem[] = [];
  const byKey = new Map<string, StoredRecord[]>();
  // Temporary files of atomic writes seen in the same listing, for whoever cleans up.
  const temporary: string[] = [];
  let names: string[];
  try {
    names = onlyFile !== undefined ? [onlyFile] : fs.readdirSync(dir);
  } catch {
    return { records, problems, byKey, temporary };
  }
  for (const name of names) {
    if (TEMPORARY.test(name)) temporary.push(name);
    const parsed = parseRecordFileName(name);
    if (!parsed || (key !== undefined && parsed.key !== key)) continue;
    const result = readOneRecord(dir, name);
    if (result === undefined) continue;
    if (typeof result === 'string') {
      problems.push({ file: name, reason: result });
      continue;
    }
    const stored = { file: name, record: result };
    records.push(stored);
    const list = byKey.get(parsed.key) ?? [];
    list.push(stored);
    byKey.set(parsed.key, list);
  }
  return { records, problems, byKey, temporary };
}

const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

function readOneRecord(dir: string, name: string): HolderRecord | string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(
      path.join(dir, name),
      fs.constants.O_RDONLY | O_NOFOLLOW | (fs.constants.O_NONBLOCK ?? 0),
    );
  } catch (err) {
    // Removed between readdir and open: the holder just left.
    return (err as NodeJS.ErrnoException).code === 'ENOENT'
      ? undefined
      : `cannot open: ${(err as Error).message}`;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return 'not a regular file';
    if (st.size > MAX_RECORD_BYTES)
      return `oversized (${st.size} bytes, limit ${MAX_RECORD_BYTES})`;
    const buf = Buffer.alloc(st.size);
    const n = fs.readSync(fd, buf, 0, st.size, 0);
    let json: unknown;
    try {
      json = JSON.parse(buf.subarray(0, n).toString('utf8'));
    } catch {
      return n === 0 ? 'empty' : 'not valid JSON (truncated or corrupted)';
    }
    const record = validateRecord(json);
    // In a shared sticky directory anyone can write a file claiming to be anyone: the file's owner
    // is what the kernel vouches for. (Windows reports uid 0 for every file: no check there.)
    if (
      typeof record !== 'string' &&
      record.uid !== null &&
      process.platform !== 'win32' &&
      st.uid !== record.uid
    ) {
      return `forged: claims uid ${record.uid} (${record.user}) but the file belongs to uid ${st.uid}; ignored`;
    }
    return record;
  } finally {
    fs.closeSync(fd);
  }
}
