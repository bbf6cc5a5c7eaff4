// Where the presets' servers run from, when their entry names no toolchain: clangd from the
// directory of `clangd.path` (or of the clangd on PATH), gopls from `go env GOROOT`. A directory
// named `bin` stands for the toolchain around it (/usr/lib/llvm-14/bin/clangd → /usr/lib/llvm-14),
// the tree an LLVM update replaces.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';

const exe = (name: string): string => (process.platform === 'win32' ? `${name}.exe` : name);

/** The first `name` on PATH, or undefined. */
export function onPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, exe(name));
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The toolchain directory a program's path stands for. */
export function toolchainDirOf(program: string): string {
  const dir = path.dirname(program);
  return path.basename(dir) === 'bin' ? path.dirname(dir) : dir;
}

/**
 * clangd's toolchain: `clangd.path` when it is a path (as given: a symlink flipped by an updater
 * stays one lock), else clangd on PATH followed to its real file (/usr/bin/clangd is a link into
 * the LLVM tree, and /usr is no toolchain).
 */
export function clangdToolchainDir(): string | undefined {
  const setting = vscode.workspace.getConfiguration('clangd').get<string>('path');
  if (setting && setting !== 'clangd' && (path.isAbsolute(setting) || setting.startsWith('~'))) {
    const full = setting.startsWith('~') ? path.join(os.homedir(), setting.slice(1)) : setting;
    return fs.existsSync(full) ? toolchainDirOf(full) : undefined;
  }
  const found = onPath(setting || 'clangd');
  if (!found) return undefined;
  try {
    return toolchainDirOf(fs.realpathSync(found));
  } catch {
    return toolchainDirOf(found);
  }
}

/** `go env GOROOT` (the go on PATH; `go.goroot` wins when set), or undefined when there is no go. */
export function goRoot(): Promise<string | undefined> {
  const setting = vscode.workspace.getConfiguration('go').get<string>('goroot');
  if (setting && path.isAbsolute(setting))
    return Promise.resolve(fs.existsSync(setting) ? setting : undefined);
  const go = onPath('go');
  if (!go) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    execFile(go, ['env', 'GOROOT'], { timeout: 10_000, cwd: os.homedir() }, (err, stdout) => {
      const dir = stdout.trim();
      resolve(!err && dir && fs.existsSync(dir) ? dir : undefined);
    });
  });
}
