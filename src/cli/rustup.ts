import { acquireRead, acquireWrite, type LockHandle, type ReadLock } from '../lock';
import { rustupLockPlan } from '../toolchains';
import { COMMON, leadingOptions, parseArgs } from './args';
import { runChild, trapSignals } from './child';
import { commonOptions, say, sayWhenAnUpdateWaits } from './common';
import { runLocked } from './locked';


/**
 * `rustup ARGS…`: runs rustup with exactly the locks that command needs (docs/CLI.md has the
 * table): the write locks of the toolchains it changes, a read lock for `rustup run T`, none for
 * read-only commands. Unknown subcommands get the write locks of every installed toolchain.
 */
export async function rustupCommand(argv: readonly string[]): Promise<number> {
  // toolchain-lock's own options before rustup's arguments (`--lock-dir DIR`, `--poll-interval=MS`).
  const { options: own, rest: rustupArgs } = leadingOptions(argv, (arg) => COMMON.values.includes(arg.split('=')[0]!));
  const common = commonOptions(parseArgs('rustup', own, { flags: [], values: [] }));
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
      whileHeld: sayWhenAnUpdateWaits(names, cmd),
    });
  }
  if (plan.mode === 'write') {
    return runLocked<LockHandle>({
      what: `write lock of ${names}`,
      mode: 'write',
      cmd,
      acquire: (options) => acquireWrite(plan.toolchains, { ...options, ...lockOptions }),
    });
  }
  const trap = trapSignals();
  try {
    return await runChild(cmd, { fds: [], env: process.env, trap, onSpawn: () => {} });
  } finally {
    trap.dispose();
  }
}
