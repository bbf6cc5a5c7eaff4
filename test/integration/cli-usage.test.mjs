// One usage line per command, and everyone shows the same: the CLI's own help (src/cli/help.ts
// USAGE), README.md and docs/CLI.md. A command added to the CLI without its line in all three
// (or a flag added in one place only) fails here. To add a command: its line in USAGE, the same
// line in the usage blocks of README.md and docs/CLI.md, and a `## \`name\`` section in docs/CLI.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cli, ROOT } from '../fixtures/cli-harness.mjs';

/** The `toolchain-lock COMMAND …` lines of the first code block that has any. */
function usageBlock(file) {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  for (const block of text.split('```').filter((_, i) => i % 2 === 1)) {
    const lines = block.split('\n').filter((l) => /^toolchain-lock [a-z]/.test(l));
    if (lines.length > 0) return lines;
  }
  return [];
}

/** What the CLI itself says: its main help, and the commands its table knows. */
async function fromCli() {
  const main = await cli(['--help']);
  assert.equal(main.code, 0);
  const lines = main.stdout
    .split('\n')
    .filter((l) => /^ {2}toolchain-lock [a-z]/.test(l))
    .map((l) => l.trim());
  const unknown = await cli(['no-such-command']);
  const commands = /Commands: ([^.]+)\./.exec(unknown.stderr)?.[1].split(', ') ?? [];
  return { lines, commands };
}

test('help, README.md and docs/CLI.md show the same usage line for every command the CLI has', async () => {
  const { lines, commands } = await fromCli();
  const named = (l) => l.split(' ')[1];
  assert.deepEqual(
    [...new Set(lines.map(named))].sort(),
    [...commands].sort(),
    'one line per command in the table, no more',
  );
  for (const file of ['README.md', 'docs/CLI.md'])
    assert.deepEqual(
      usageBlock(file),
      lines,
      `${file} shows exactly the lines of \`toolchain-lock --help\``,
    );
  for (const command of commands) {
    const own = await cli(['help', command]);
    assert.equal(own.code, 0, command);
    assert.equal(
      own.stdout.split('\n')[0],
      `Usage: ${lines.find((l) => named(l) === command)}`,
      `help ${command} starts with its line`,
    );
  }
  const reference = fs.readFileSync(path.join(ROOT, 'docs/CLI.md'), 'utf8');
  for (const command of commands.filter((c) => c !== 'help'))
    assert.ok(reference.includes(`## \`${command}\``), `docs/CLI.md has a section on ${command}`);
});
