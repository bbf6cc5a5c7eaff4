// Runs an update command: argv only (never a shell string), output streamed live, cancellable.
// Its output goes to a log file, not to pipes into this extension host: a host that dies (a
// closed window, a crash) must not take the update with it at its next line of output.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { groupSpawnOptions, killTree, spawnFailure, waitForExit } from '../../lock';

export interface RunOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  /** Called with each chunk of stdout and stderr as it arrives. */
  readonly onOutput: (text: string) => void;
  /** The file stdout and stderr are appended to; it outlives this process, as the command does. */
  readonly logFile: string;
  readonly onSpawn?: (pid: number) => void;
  /** Lock descriptors the command inherits (fds 3, 4, …), so the lock outlives the extension host while it runs. */
  readonly fds?: readonly number[];
  /** After cancelling: how long SIGTERM gets before SIGKILL. */
  readonly killGraceMs?: number;
}

/** The user cancelled the command (before it started, or while it ran: then it was stopped). */
export class CancelledError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CancelledError';
  }
}

/**
 * Resolves when `argv` exits with status 0; rejects with a message naming the status otherwise,
 * or with a CancelledError when `signal` aborts it.
 */
export async function runCommand(argv: readonly string[], options: RunOptions): Promise<void> {
  const [program, ...args] = argv;
  if (!program) throw new Error('The update command is empty.');
  if (options.signal?.aborted)
    throw new CancelledError('Cancelled before the update command started.');
  const out = fs.openSync(
    options.logFile,
    fs.constants.O_WRONLY |
      fs.constants.O_APPEND |
      fs.constants.O_CREAT |
      (fs.constants.O_NOFOLLOW ?? 0),
    0o600,
  );
  const tail = tailFile(options.logFile, fs.fstatSync(out).size, options.onOutput);
  let child;
  try {
    child = spawn(program, args, {
      ...groupSpawnOptions,
      cwd: options.cwd,
      env: options.env ?? process.env,
      shell: false,
      stdio: ['ignore', out, out, ...(options.fds ?? [])],
    });
  } catch (err) {
    // Node throws, rather than emitting 'error', for start failures it does not expect (ENOTDIR;
    // spawn UNKNOWN when Windows' CreateProcess fails): the same failure, said the same.
    tail.stop();
    throw new Error(`Cannot run the update command: ${spawnFailure(program, err)}.`, {
      cause: err,
    });
  } finally {
    fs.closeSync(out);
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) =>
        reject(new Error(`Cannot run the update command: ${spawnFailure(program, err)}.`)),
      );
    });
  } catch (err) {
    tail.stop();
    throw err;
  }
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  let cancelled = false;
  const onAbort = (): void => {
    cancelled = true;
    if (child.pid === undefined) return;
    killTree(child.pid, 'SIGTERM');
    void waitForExit(child, options.killGraceMs ?? 5000).then((gone) => {
      if (!gone && child.pid !== undefined) killTree(child.pid, 'SIGKILL');
    });
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const { code, signal } = await exited;
    tail.stop();
    if (cancelled)
      throw new CancelledError(
        `Cancelled: ${program} was stopped (${signal ?? `exit status ${code}`}).`,
      );
    if (code !== 0)
      throw new Error(
        `${argv.join(' ')} failed (${signal ? `killed by ${signal}` : `exit status ${code}`}).`,
      );
  } finally {
    tail.stop();
    options.signal?.removeEventListener('abort', onAbort);
  }
}

const TAIL_MS = 200;

/** Reports what is appended to `file` after `from`, until stopped (which reads the rest once more). */
function tailFile(file: string, from: number, onText: (text: string) => void): { stop(): void } {
  let offset = from;
  let stopped = false;
  const decoder = new TextDecoder();
  const read = (): void => {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return;
    }
    try {
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        offset += n;
        const text = decoder.decode(buf.subarray(0, n), { stream: true });
        if (text) onText(text);
      }
    } finally {
      fs.closeSync(fd);
    }
  };
  const timer = setInterval(read, TAIL_MS);
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      read();
    },
  };
}
