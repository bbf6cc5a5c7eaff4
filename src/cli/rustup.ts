import { acquireRead, acquireWrite, describeHolder, type LockHandle, type ReadLock } from '../lock';
import { rustupLockPlan } from '../toolchains';
import { COMMON, parseArgs } from './args';
import { runChild, trapSignals } from './child';
import { commonOptions, say } from './common';
import { runLocked } from './locked';
import { checkUnlocked, UNLOCKED_OPTIONS, unlockedChoice } from './unlocked';

/** toolchain-lock's own options before rustup's arguments (`--lock-dir DIR`, `--poll-interval=MS`, `--unlocked fail`). */
function splitOwnOptions(argv: readonly string[]): { own: string[]; rustupArgs: readonly string[] } {
  const own: string[] = [];
  const ours: readonly string[] = [...COMMON.values, ...UNLOCKED_OPTIONS];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    if (!ours.includes(name)) break;
    own.push(arg);
    if (name === arg) own.push(argv[++i] ?? '');
  }
  return { own, rustupArgs: argv.slice(i) };
}

/**
 * `rustup ARGS…`: runs rustup with exactly the locks that command needs (docs/CLI.md has the
 * table): the write locks of the toolchains it changes, a read lock for `rustup run T`, none for
 * read-only commands. Unknown subcommands get the write locks of every installed toolchain.
 */
export async function rustupCommand(argv: readonly string[]): Promise<number> {
  const { own, rustupArgs } = splitOwnOptions(argv);
  const ownArgs = parseArgs('rustup', own, { flags: [], values: [...UNLOCKED_OPTIONS] });
  const common = commonOptions(ownArgs);
  const unlocked = unlockedChoice(ownArgs);
  const plan = rustupLockPlan(rustupArgs, { cwd: process.cwd() });
  const cmd = ['rustup', ...rustupArgs];
  const names = plan.toolchains.map((t) => t.name).join(', ');
  if (plan.unknown) {
    say(`toolchain-lock does not know \`rustup ${plan.command}\`; it runs with the write locks of every installed toolchain to be safe${names ? ` (${names})` : ''}.`);
  }
  const lockOptions = { lockDir: common.lockDir, pollIntervalMs: common.pollIntervalMs };
  if (plan.mode === 'read') {
    const [toolchain] = plan.toolchains;
    return runLocked<ReadLock>({
      what: `read lock of ${names}`,
      mode: 'read',
      cmd,
      acquire: (options) => acquireRead(toolchain!, { ...options, ...lockOptions }),
      whileHeld: (lock) =>
        lock.onUpdatePending((writer) => {
          say(`an update of ${names} is waiting for \`${cmd.join(' ')}\` to finish: ${describeHolder(writer)}. It starts when this command exits.`);
        }),
    });
  }
  if (plan.mode === 'write') {
    return runLocked<LockHandle>({
      what: `write lock of ${names}`,
      mode: 'write',
      cmd,
      acquire: (options) => acquireWrite(plan.toolchains, { ...options, ...lockOptions }),
      beforeRun: (_lock, signal) => checkUnlocked(plan.toolchains, unlocked, { lockDir: common.lockDir, signal }),
    });
  }
  const trap = trapSignals();
  try {
    return await runChild(cmd, { fds: [], env: process.env, trap, onSpawn: () => {} });
  } finally {
    trap.dispose();
  }
}
