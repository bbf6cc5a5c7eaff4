// `toolchain-lock completions bash|zsh|fish|powershell`: a completion script for the shell, made
// from the command table and the help texts (one source: a new command or flag completes once it
// is in the table and its help).
import { COMMON } from './args';
import { HELP } from './help';
import { UsageError } from './exit-codes';

export const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;
type Shell = (typeof SHELLS)[number];

/** The long options a command's help names (`--json`, `--lock-dir`, …), sorted. */
export function optionsOf(command: string): string[] {
  return [...new Set((HELP[command] ?? '').match(/--[a-z][a-z-]*/g) ?? [])].sort();
}

function bash(commands: readonly string[]): string {
  const cases = commands.map((c) => `    ${c}) opts="${optionsOf(c).join(' ')}" ;;`).join('\n');
  return `# toolchain-lock completion for bash: eval "$(toolchain-lock completions bash)"
_toolchain_lock() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd="" opts="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in ${COMMON.values.join('|')}) ((i++)) ;; -*) ;; *) cmd=\${COMP_WORDS[i]}; break ;; esac
  done
  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "${commands.join(' ')} --help --version" -- "$cur"))
    return
  fi
  case $cmd in
${cases}
  esac
  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -o default -F _toolchain_lock toolchain-lock
`;
}

function zsh(commands: readonly string[]): string {
  const cases = commands
    .map(
      (c) =>
        `    ${c}) _arguments '*:file:_files' ${optionsOf(c)
          .map((o) => `'${o}'`)
          .join(' ')} ;;`,
    )
    .join('\n');
  return `#compdef toolchain-lock
# toolchain-lock completion for zsh: source <(toolchain-lock completions zsh)
_toolchain_lock() {
  if (( CURRENT == 2 )); then
    compadd -- ${commands.join(' ')} --help --version
    return
  fi
  case $words[2] in
${cases}
  esac
}
compdef _toolchain_lock toolchain-lock
`;
}

function fish(commands: readonly string[]): string {
  const lines = [
    `# toolchain-lock completion for fish: toolchain-lock completions fish | source`,
    `complete -c toolchain-lock -f -n __fish_use_subcommand -a '${commands.join(' ')}'`,
  ];
  for (const c of commands)
    for (const o of optionsOf(c))
      lines.push(
        `complete -c toolchain-lock -n '__fish_seen_subcommand_from ${c}' -l ${o.slice(2)}`,
      );
  return `${lines.join('\n')}\n`;
}

function powershell(commands: readonly string[]): string {
  const table = commands
    .map(
      (c) =>
        `  '${c}' = @(${optionsOf(c)
          .map((o) => `'${o}'`)
          .join(', ')})`,
    )
    .join('\n');
  return `# toolchain-lock completion for PowerShell: toolchain-lock completions powershell | Out-String | Invoke-Expression
$toolchainLockOptions = @{
${table}
}
Register-ArgumentCompleter -Native -CommandName toolchain-lock -ScriptBlock {
  param($wordToComplete, $commandAst, $cursorPosition)
  $words = @($commandAst.CommandElements | ForEach-Object { $_.ToString() })
  $command = $words | Select-Object -Skip 1 | Where-Object { $_ -notlike '-*' } | Select-Object -First 1
  $candidates = if ($command -and $toolchainLockOptions.ContainsKey($command)) { $toolchainLockOptions[$command] } else { $toolchainLockOptions.Keys }
  $candidates | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object { [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_) }
}
`;
}

const SCRIPTS: Readonly<Record<Shell, (commands: readonly string[]) => string>> = {
  bash,
  zsh,
  fish,
  powershell,
};

/** Prints the script for the shell named in argv; `commands` is the command table's names. */
export function completionsCommand(
  argv: readonly string[],
  commands: readonly string[],
): Promise<number> {
  const shell = argv.find((a) => !a.startsWith('-'));
  if (shell === undefined || !SHELLS.includes(shell as Shell)) {
    throw new UsageError(
      `completions needs a shell: ${SHELLS.join(', ')}${shell === undefined ? '' : ` (not \`${shell}\`)`}.`,
      'completions',
    );
  }
  process.stdout.write(SCRIPTS[shell as Shell]([...commands].sort()));
  return Promise.resolve(0);
}
