// Which processes of the extension host are another extension's language server. Extensions share
// one host process, so its server is a descendant of ours; the rule that picks it out:
//  - only processes in the host's process group count as roots: everything this extension starts
//    (managed servers, update commands) is spawned detached and leads a group of its own;
//  - a root is a process whose program is named like the server (`rust-analyzer`), is the server
//    path its owner is configured with, or lies under one of the server's toolchain directories
//    (`rust-analyzer-proc-macro-srv`, `cargo`, `rustc`), together with the host's descendants
//    between the host and that toolchain process (the server that started it, whatever its name);
//  - everything below a root belongs to it too.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { descendants, readProcess, type ProcessEntry } from '../../lock';

export interface ServerRule {
  /** Program names (file name without `.exe`, or the kernel's short name) of the server. */
  readonly names: readonly string[];
  /** Server binaries by full path (a configured `server.path`). */
  readonly exes: readonly string[];
  /** Toolchain directories: any program under one runs from the toolchain. */
  readonly dirs: readonly string[];
}

function canonical(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** Prepares a rule once: directories and paths compared canonically, as /proc reports them. */
export function serverRule(
  names: readonly string[],
  exes: readonly string[],
  dirs: readonly string[],
): ServerRule {
  return { names, exes: exes.map(canonical), dirs: dirs.map((d) => canonical(d) + path.sep) };
}

function programName(p: ProcessEntry): string {
  return p.exe ? path.basename(p.exe).replace(/\.exe$/i, '') : p.name;
}

/** The server's processes among `host`'s descendants, parents before children. */
export function findServerProcesses(host: number, rule: ServerRule): ProcessEntry[] {
  const all = descendants(host);
  if (all.length === 0) return [];
  const hostGroup = readProcess(host)?.pgid;
  const byPid = new Map(all.map((p) => [p.pid, p]));
  const picked = new Set<number>();
  for (const p of all) {
    if (p.pgid !== hostGroup) continue;
    const inToolchain = p.exe !== null && rule.dirs.some((d) => p.exe!.startsWith(d));
    const named =
      rule.names.includes(programName(p)) ||
      rule.names.includes(p.name) ||
      (p.exe !== null && rule.exes.includes(p.exe));
    if (!inToolchain && !named) continue;
    picked.add(p.pid);
    if (!inToolchain) continue;
    for (let up = byPid.get(p.ppid); up && up.pid !== host; up = byPid.get(up.ppid))
      picked.add(up.pid);
  }
  // Parents come before children in `all`: one pass takes every subtree.
  for (const p of all) if (picked.has(p.ppid)) picked.add(p.pid);
  return all.filter((p) => picked.has(p.pid));
}
