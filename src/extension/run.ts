// Runs an update command: argv only (never a shell string), output streamed live, cancellable.
import { spawn } from 'node:child_process';
import { groupSpawnOptions, killTree, waitForExit } from './servers/process';

export interface RunOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  /** Called with each chunk of stdout and stderr as it arrives. */
  readonly onOutput: (text: string) => void;
  readonly onSpawn?: (pid: number) => void;
  /** Lock descriptors the command inherits (fds 3, 4, …), so the lock outlives the extension host while it runs. */
  readonly fds?: readonly number[];
  /** After cancelling: how long SIGTERM gets before SIGKILL. */
  readonly killGraceMs?: number;
}

/** Resolves when `argv` exits with status 0; rejects with a message naming the status otherwise. */
export async function runCommand(argv: readonly string[], options: RunOptions): Promise<void> {
  const [program, ...args] = argv;
  if (!program) throw new Error('The update command is empty.');
  if (options.signal?.aborted) throw new Error('Cancelled before the update command started.');
  const child = spawn(program, args, { ...groupSpawnOptions, cwd: options.cwd, env: options.env ?? process.env, shell: false, stdio: ['ignore', 'pipe', 'pipe', ...(options.fds ?? [])] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) => reject(new Error(`Cannot run ${program}: ${err.message}`)));
  });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  child.stdout?.setEncoding('utf8').on('data', options.onOutput);
  child.stderr?.setEncoding('utf8').on('data', options.onOutput);
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
    if (cancelled) throw new Error(`Cancelled: ${program} was stopped (${signal ?? `exit status ${code}`}).`);
    if (code !== 0) throw new Error(`${argv.join(' ')} failed (${signal ? `killed by ${signal}` : `exit status ${code}`}).`);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
