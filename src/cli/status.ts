import { describeHolder, describeRole, PROTOCOL_VERSION, type Holder } from '../lock';
import { describeUnlocked, describeUnlockedWriter, status, type LockStatus } from '../observe';
import { parseArgs } from './args';
import { commonOptions, resolveSpecs } from './common';
import { UsageError } from './exit-codes';
import { printHelp } from './help';

/** One toolchain in `status --json` (docs/CLI.md): the engine's LockStatus with name and path on top. */
export interface StatusEntry extends Omit<LockStatus, 'toolchain'> {
  readonly name: string | null;
  readonly path: string | null;
}

/** The whole `status --json` document. */
export interface StatusDocument {
  readonly protocol: number;
  readonly lockDir: string;
  readonly toolchains: readonly StatusEntry[];
}

export function statusDocument(lockDir: string, statuses: readonly LockStatus[]): StatusDocument {
  return {
    protocol: PROTOCOL_VERSION,
    lockDir,
    toolchains: statuses.map((s) => ({
      name: s.toolchain?.name ?? null,
      path: s.toolchain?.path ?? null,
      key: s.key,
      state: s.state,
      lockFile: s.lockFile,
      gateFile: s.gateFile,
      holders: s.holders,
      writer: s.writer,
      waiting: s.waiting,
      problems: s.problems,
      unlocked: s.unlocked,
      unlockedWriter: s.unlockedWriter,
    })),
  };
}

function holderLine(h: Holder): string {
  return `    ${describeRole(h).padEnd(14)} ${describeHolder(h)}`;
}

/** The readable form: one block per toolchain, one line per party. */
export function statusText(doc: StatusDocument): string {
  if (doc.toolchains.length === 0) return `No toolchain locks in ${doc.lockDir}.\n`;
  const lines: string[] = [];
  for (const t of doc.toolchains) {
    lines.push(`${t.name ?? t.key}: ${t.state}`);
    lines.push(`  path:      ${t.path ?? '(unknown: no description file)'}`);
    lines.push(`  lock file: ${t.lockFile}`);
    const parties = [...t.holders, ...t.waiting];
    if (parties.length === 0 && t.unlocked.length === 0)
      lines.push('  nobody holds or waits for it');
    for (const h of parties) lines.push(holderLine(h));
    for (const p of t.unlocked) lines.push(`    ${'no lock'.padEnd(14)} ${describeUnlocked(p)}`);
    if (t.unlockedWriter)
      lines.push(
        `  being changed outside Toolchain Lock by ${describeUnlockedWriter(t.unlockedWriter)}`,
      );
    for (const p of t.problems) lines.push(`  ignored record ${p.file}: ${p.reason}`);
  }
  lines.push(
    '',
    `Lock directory: ${doc.lockDir}. A plain \`flock -s LOCK_FILE CMD\` takes part as a reader.`,
  );
  return `${lines.join('\n')}\n`;
}

/** `status [TOOLCHAIN ...] [--json]`. */
export async function statusCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs('status', argv, { flags: ['--json'], values: [] });
  if (args.flags.has('--help')) return printHelp('status');
  if (args.rest !== null)
    throw new UsageError('`status` runs no command; leave out `--`.', 'status');
  const common = commonOptions(args);
  const toolchains =
    args.positionals.length > 0
      ? resolveSpecs(args.positionals, { allowMissing: true })
      : undefined;
  const doc = statusDocument(common.lockDir, status({ lockDir: common.lockDir, toolchains }));
  process.stdout.write(
    args.flags.has('--json') ? `${JSON.stringify(doc, null, 2)}\n` : statusText(doc),
  );
  return 0;
}
