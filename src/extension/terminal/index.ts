// Integrated terminals: the bundled CLI and the shims on PATH, and the launcher that runs the CLI.
export { TerminalEnvironment } from './environment';
