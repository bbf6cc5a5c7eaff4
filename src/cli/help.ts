import * as fs from 'node:fs';
import * as path from 'node:path';

const TOOLCHAIN = `TOOLCHAIN is a rustup toolchain name as rustup spells it (stable, nightly, 1.95.0,
nightly-2026-01-01, with or without the host triple) or a toolchain directory path
(./dir, ~/dir, /opt/dir). Names are resolved from $RUSTUP_HOME (default ~/.rustup);
rustup itself is never run to resolve them. Names configured in an editor are known too
($TOOLCHAIN_LOCK_TOOLCHAINS, set by the VS Code extension in its terminals).`;

const COMMON = `Options for every command:
  --lock-dir DIR        the lock directory (default: $TOOLCHAIN_LOCK_DIR, else
                        ~/.cache/toolchain-lock; every client must use the same one)
  --poll-interval MS    how often to re-check while waiting (default 1000)
  -h, --help            this help`;

/**
 * One synopsis per command, the single source of the usage lines: the main help lists them, each
 * command's help starts with its own, and README.md and docs/CLI.md must show exactly these
 * (test/integration/cli-usage.test.mjs fails when they drift). A new command adds its line here.
 */
export const USAGE: Readonly<Record<string, string>> = {
  status: 'status [TOOLCHAIN ...] [--json]',
  run: 'run [TOOLCHAIN] [--purpose TEXT] -- CMD [ARG ...]',
  update:
    'update TOOLCHAIN [TOOLCHAIN ...] [--timeout SECONDS] [--no-wait] [--purpose TEXT] [--unlocked wait|proceed|fail] [--unlocked-timeout SECONDS] [-- CMD [ARG ...]]',
  watch: 'watch [TOOLCHAIN ...] [--json]',
  which: 'which [+TOOLCHAIN] [DIR] [--json]',
  rustup: 'rustup [--unlocked wait|proceed|fail] [--unlocked-timeout SECONDS] ARG ...',
  clean: 'clean [TOOLCHAIN ...] [--json]',
  shims: 'shims install|dir|uninstall [--dir DIR] [--json]',
  'shell-init': 'shell-init bash|zsh|fish|powershell [--dir DIR] [--off]',
  completions: 'completions bash|zsh|fish|powershell',
  help: 'help [COMMAND]',
};

const usage = (command: string): string => `Usage: toolchain-lock ${USAGE[command]!}`;

export const HELP: Readonly<Record<string, string>> = {
  main: `toolchain-lock — update toolchains safely while editors and builds use them

Usage:
${Object.values(USAGE)
  .map((line) => `  toolchain-lock ${line}\n`)
  .join('')}  toolchain-lock --help | --version

Builds, editors and language servers hold a toolchain's lock for read; an update holds it
for write. An update waits until every reader is done, and new readers wait for the update.

${TOOLCHAIN}

${COMMON}

Exit statuses: CMD's own when it ran; 64 usage; 75 timeout, --no-wait refused, or programs
running from the toolchain without a lock (--unlocked); 76 nested update refused; 77
lock-directory problem; 78 unknown toolchain, no rustup, a file that is not valid TOML, or a
shim directory we cannot write; 126/127 CMD not executable/not found; 130 interrupted while
waiting; 70 internal error. See docs/CLI.md.
`,
  status: `${usage('status')}

Shows every toolchain lock in the lock directory (or just the named toolchains): its state
(free, read, write, update-pending), who holds it (program, pid, host, since, liveness, plain
flock holders included), the pending or active update, and the lock file a plain
\`flock -s LOCK_FILE CMD\` must lock to take part as a reader. Also, as observations from the
process table (never locks): programs running from the toolchain without its lock ("no lock";
JSON "unlocked"), and a rustup or other process changing it without the write lock
("being changed outside Toolchain Lock by ..."; JSON "unlockedWriter").

  --json    one JSON document (schema in docs/CLI.md)

${COMMON}
`,
  run: `${usage('run')}

Takes TOOLCHAIN's lock for read and runs CMD under it (without TOOLCHAIN: the toolchain rustup
would use in the current directory, as \`toolchain-lock which\` shows it); CMD exits, the lock is released. CMD
inherits the lock (as fd 3), so it stays held even if this wrapper is killed. If an update is
pending, run waits for it first; an update that starts waiting while CMD runs waits for CMD
(you are told so on stderr). SIGINT, SIGTERM and SIGHUP are passed on to CMD. Exits with CMD's
status (128+N if signal N killed it).

  --purpose TEXT    why you hold the lock, shown to whoever waits for it

${TOOLCHAIN}

${COMMON}
`,
  update: `${usage('update')}

Announces an update (new readers queue behind it), waits until every reader is gone — telling
you on stderr whom it waits for — then runs CMD holding the write lock of all the toolchains.
Without CMD, rustup toolchains are updated with \`rustup update NAME ...\`; for a directory
or a linked rustup toolchain, give CMD. A rustup channel that is not installed yet can be
named too (\`update 1.80.0 -- rustup toolchain install 1.80.0\`): its lock is the same before
and after the install. Ctrl-C while waiting gives up (nothing runs); during CMD it is passed on to CMD.

  --timeout SECONDS  give up waiting after this long (exit 75)
  --no-wait          give up at once if the lock is taken (exit 75)
  --purpose TEXT     shown to the readers that the update waits for

Holding the write lock, before CMD: programs still running from the toolchain without a lock
(started outside toolchain-lock and the editors) are named on stderr, then
  --unlocked wait           wait for them to exit; stop with exit 75 if any is left (default)
  --unlocked proceed        wait for them, then update anyway
  --unlocked fail           stop at once with exit 75
  --unlocked-timeout SECONDS  how long to wait for them (default 30; --no-wait: 0)
Without the flags: TOOLCHAIN_LOCK_UNLOCKED and TOOLCHAIN_LOCK_UNLOCKED_TIMEOUT.

${TOOLCHAIN}

${COMMON}
`,
  watch: `${usage('watch')}

Prints lock events as they happen, one per line: acquired, released, waiting, update-pending,
update-started, update-done; and unlocked-change (started, done) when a toolchain's files change
while nobody holds its write lock (a plain \`rustup update\`), naming the writer when it can.
Runs until interrupted (SIGINT or SIGTERM; exits 0).

  --json    one JSON object per line (schema in docs/CLI.md)

${COMMON}
`,
  which: `${usage('which')}

The toolchain rustup would use in DIR (default: the current directory), found offline the way
rustup finds it: a leading +TOOLCHAIN (as a proxy takes it: \`cargo +nightly\`); RUSTUP_TOOLCHAIN;
then, walking up from DIR, a \`rustup override\` for the directory or a rust-toolchain.toml /
rust-toolchain file in it; then the default toolchain.
Prints its name, path, lock key and lock file, and which rule chose it. Exit 78 when no rule
applies, or where rustup refuses too: a settings or toolchain file that is not valid TOML or names
no toolchain, a relative path, a path without bin/.

  --json    the toolchain's \`status --json\` entry plus "source" (command-line, env,
            override, toolchain-file, default), "sourceFile" and "installed"

${COMMON}
`,
  rustup: `${usage('rustup')}

Runs \`rustup ARG ...\` holding exactly the locks that command needs, so
\`alias rustup='toolchain-lock rustup'\` makes every rustup safe while editors run:
the write locks of the toolchains it changes (update, toolchain install/uninstall/link,
component and target add/remove, default of a toolchain not installed yet), a read lock for
\`rustup run T ...\`, and none for read-only commands (show, which, toolchain list, doc, ...).
A subcommand toolchain-lock does not know runs with the write locks of every installed
toolchain. The table is in docs/CLI.md. Exits with rustup's status.

Options of toolchain-lock go before \`rustup\`: toolchain-lock --lock-dir DIR rustup update
A command that takes write locks first names programs running from those toolchains without
a lock and waits for them, as \`update\` does (--unlocked, --unlocked-timeout, right after
\`rustup\`; exit 75). The rustup shim does the same, choosing from TOOLCHAIN_LOCK_UNLOCKED and
TOOLCHAIN_LOCK_UNLOCKED_TIMEOUT.

${COMMON}
`,
  clean: `${usage('clean')}

Removes what dead parties left in the lock directory (of the named toolchains, or all): records
whose processes are proved gone, and temporary files of writes killed before their rename. One
line per file removed. \`status\` and \`watch\` never remove anything; parties taking a lock clean
up their toolchains' files themselves, so this is only needed to tidy up by hand.

  --json    {"lockDir", "removed": [{"file", "reason"}]}; reason is "dead record" or
            "abandoned temporary file"

${COMMON}
`,
  shims: `${usage('shims')}

Shims make plain \`rustup\`, \`cargo\`, \`rustc\`, ... take the toolchain lock. Each shim runs the
real program (the next one on PATH after the shims): \`rustup ARGS\` as \`toolchain-lock rustup
ARGS\`, any other program under the read lock of the toolchain rustup picks for that call
(+toolchain, RUSTUP_TOOLCHAIN, override, toolchain file, default). A toolchain that is not
installed is installed first under its write lock, as rustup would. Calls nested in a locked
one (cargo -> build script -> rustc) run straight, without starting Node. Exit statuses, signals,
streams and the terminal are the real program's; 127 when there is no real program.

  install     writes a shim for rustup and each of its proxies ($CARGO_HOME/bin, default
              ~/.cargo/bin) into DIR and prints DIR
  dir         prints DIR and whether the shims are in effect (first on PATH, ahead of
              rustup's directory); exit 0 when they are, 1 when not
  uninstall   removes the shims (only files it wrote) and prints DIR
  --dir DIR   the shim directory (default: $TOOLCHAIN_LOCK_SHIM_DIR, else
              ~/.local/share/toolchain-lock/shims or $XDG_DATA_HOME/toolchain-lock/shims;
              ~/Library/Application Support/toolchain-lock/shims on macOS;
              %LOCALAPPDATA%\\toolchain-lock\\shims on Windows)
  --json      \`dir\` as JSON: dir, installed, programs, inEffect, onPath, resolved, ahead

Turn them on in a shell with \`toolchain-lock shell-init\`. VS Code's terminals get them from
the extension (setting toolchainLock.terminalShims).

${COMMON}
`,
  'shell-init': `${usage('shell-init')}

Prints what a shell profile runs to put the shims first on PATH (once, however often it runs):
  bash        eval "$(toolchain-lock shell-init bash)"                  in ~/.bashrc
  zsh         eval "$(toolchain-lock shell-init zsh)"                   in ~/.zshrc
  fish        toolchain-lock shell-init fish | source                   in ~/.config/fish/config.fish
  powershell  toolchain-lock shell-init powershell | Out-String | Invoke-Expression   in $PROFILE
Put it after anything else that changes PATH (such as . "$HOME/.cargo/env"). To turn the shims
off, remove that line; --off prints what takes them off PATH in the current shell.

  --dir DIR   the shim directory (default as for \`shims\`)
  --off       take DIR off PATH instead

${COMMON}
`,
  completions: `${usage('completions')}

Prints a completion script for the shell, made from the commands and their options:
  bash        eval "$(toolchain-lock completions bash)"           (in ~/.bashrc)
  zsh         source <(toolchain-lock completions zsh)            (in ~/.zshrc)
  fish        toolchain-lock completions fish | source            (in config.fish)
  powershell  toolchain-lock completions powershell | Out-String | Invoke-Expression  (in $PROFILE)
`,
  help: `${usage('help')}

Shows the help of toolchain-lock or of one command.
`,
};

/** Prints a help text on stdout; returns the exit status 0. */
export function printHelp(topic: string): number {
  process.stdout.write(HELP[topic] ?? HELP.main!);
  return 0;
}

/** The package version, read from package.json next to dist/ (or the repository root in development). */
export function version(): string {
  for (const candidate of [
    path.join(__dirname, '..', 'package.json'),
    path.join(__dirname, '..', '..', 'package.json'),
  ]) {
    try {
      const pkg = JSON.parse(fs.readFileSync(candidate, 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === 'toolchain-lock' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Try the next place.
    }
  }
  return 'unknown';
}
