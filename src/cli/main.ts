import { COMMON, leadingOptions } from './args';
import { cleanCommand } from './clean';
import { completionsCommand } from './completions';
import { describeFailure, EXIT, UsageError } from './exit-codes';
import { HELP, printHelp, version } from './help';
import { runCommand } from './run';
import { rustupCommand } from './rustup';
import { shellInitCommand } from './shell-init';
import { shimsCommand } from './shims';
import { statusCommand } from './status';
import { updateCommand } from './update';
import { watchCommand } from './watch';
import { whichCommand } from './which';

type Command = (argv: readonly string[]) => Promise<number>;

/** The command table: one entry, one file, per command. */
const COMMANDS: Readonly<Record<string, Command>> = {
  status: statusCommand,
  run: runCommand,
  update: updateCommand,
  watch: watchCommand,
  which: whichCommand,
  rustup: rustupCommand,
  clean: cleanCommand,
  shims: shimsCommand,
  'shell-init': shellInitCommand,
  completions: (argv) => completionsCommand(argv, Object.keys(COMMANDS)),
  async help(argv) {
    const topic = argv.find((a) => !a.startsWith('-'));
    if (topic !== undefined && !Object.hasOwn(HELP, topic))
      throw new UsageError(
        `No command \`${topic}\`. Commands: ${Object.keys(COMMANDS).join(', ')}.`,
      );
    return printHelp(topic ?? 'main');
  },
};

/** Runs the tool on its arguments (without node and script) and resolves with the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  // Options common to all commands may also come before the command name.
  const { options: leading, rest } = leadingOptions(
    argv,
    (arg) => arg.startsWith('-') && arg !== '--',
  );
  for (let j = 0; j < leading.length; j++) {
    const arg = leading[j]!;
    if (COMMON.values.includes(arg)) {
      j++; // its value, whatever it looks like
      continue;
    }
    if (arg === '--help' || arg === '-h') return printHelp('main');
    if (arg === '--version' || arg === '-V') {
      process.stdout.write(`toolchain-lock ${version()}\n`);
      return EXIT.ok;
    }
  }
  const name = rest[0];
  if (name === undefined) {
    process.stderr.write(HELP.main!);
    return EXIT.usage;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command)
    throw new UsageError(
      `Unknown command \`${name}\`. Commands: ${Object.keys(COMMANDS).join(', ')}.`,
    );
  return command([...leading, ...rest.slice(1)]);
}

// `toolchain-lock watch | head -1`: once the reader of our output is gone, so are we.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(EXIT.ok);
});

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (err: unknown) => {
    const failure = describeFailure(err);
    process.stderr.write(`${failure.message}\n`);
    process.exit(failure.status);
  },
);
