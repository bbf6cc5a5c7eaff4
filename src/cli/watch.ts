import { describeHolder, PROTOCOL_VERSION } from '../lock';
import { describeUnlockedWriter, watch, type LockEvent, type UnlockedChange } from '../observe';
import { parseArgs } from './args';
import { commonOptions, resolveSpecs, say, warn } from './common';
import { UsageError } from './exit-codes';
import { printHelp } from './help';

function eventText(e: LockEvent): string {
  const name = e.toolchain?.name ?? e.key;
  return `${e.time} ${e.event.padEnd(14)} ${name} ${e.holder.mode.padEnd(5)} ${describeHolder(e.holder)}`;
}

function changeText(c: UnlockedChange): string {
  const who = c.writer ? describeUnlockedWriter(c.writer) : 'a process we cannot name';
  return `${c.time} ${'unlocked-change'.padEnd(14)} ${c.toolchain.name} ${c.phase.padEnd(7)} ${c.phase === 'started' ? 'being changed outside Toolchain Lock by' : 'change over (writer gone, quiet, whole again):'} ${who}`;
}

/** `watch [TOOLCHAIN ...] [--json]`: one line per lock event until SIGINT/SIGTERM. */
export async function watchCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs('watch', argv, { flags: ['--json'], values: [] });
  if (args.flags.has('--help')) return printHelp('watch');
  if (args.rest !== null) throw new UsageError('`watch` runs no command; leave out `--`.', 'watch');
  const common = commonOptions(args);
  const toolchains = args.positionals.length > 0 ? resolveSpecs(args.positionals) : undefined;
  const json = args.flags.has('--json');
  const watcher = watch({
    lockDir: common.lockDir,
    toolchains,
    pollIntervalMs: common.pollIntervalMs,
    onWarning: warn,
    onEvent(e) {
      process.stdout.write(
        `${json ? JSON.stringify({ protocol: PROTOCOL_VERSION, ...e }) : eventText(e)}\n`,
      );
    },
    onUnlockedChange(c) {
      const e = {
        protocol: PROTOCOL_VERSION,
        time: c.time,
        event: 'unlocked-change',
        phase: c.phase,
        key: c.key,
        toolchain: c.toolchain,
        writer: c.writer,
      };
      process.stdout.write(`${json ? JSON.stringify(e) : changeText(c)}\n`);
    },
  });
  say(`watching ${common.lockDir} for lock events; Ctrl-C stops.`);
  return new Promise((resolve) => {
    const stop = (): void => {
      watcher.dispose();
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
