import * as fs from 'node:fs';
import type { parse as Parse } from 'smol-toml' with { 'resolution-mode': 'import' };
import { ToolchainError } from './errors';

// smol-toml is an ES module with a CommonJS build; its types describe the ES module only, so the
// CommonJS build is required here and typed from them (esbuild bundles it either way).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
const { parse } = require('smol-toml') as { readonly parse: typeof Parse };

/**
 * rustup's TOML files (settings.toml, rust-toolchain.toml) through smol-toml, a full TOML 1.0
 * parser: inline tables (`toolchain = { channel = "nightly" }`) and dotted keys
 * (`toolchain.channel = "nightly"`) mean what they mean to rustup.
 */
export type TomlTable = Readonly<Record<string, unknown>>;

/** Parses `text` read from `file`; a file that is not TOML is an error naming it. */
export function parseToml(text: string, file: string): TomlTable {
  try {
    return parse(text);
  } catch (err) {
    const e = err as Error & { line?: number };
    const detail = e.message
      .split('\n')[0]!
      .replace(/^Invalid TOML document:\s*/, '')
      .replace(/[.\s]+$/, '');
    const where = typeof e.line === 'number' ? `line ${e.line}: ` : '';
    throw new ToolchainError(
      'E_BAD_TOML',
      `${file} is not valid TOML (${where}${detail}). Fix the file; rustup cannot read it either.`,
      [],
      { cause: err },
    );
  }
}

/** The file's contents, or null when it does not exist or cannot be read. */
export function readTextFile(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** The table at `key` of `table`, or undefined when it is missing or not a table. */
export function tomlTable(table: TomlTable | undefined, key: string): TomlTable | undefined {
  const v = table?.[key];
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)
    ? (v as TomlTable)
    : undefined;
}

/** The string at `key` of `table`, or undefined when it is missing or not a string. */
export function tomlString(table: TomlTable | undefined, key: string): string | undefined {
  const v = table?.[key];
  return typeof v === 'string' ? v : undefined;
}

/** The strings of the array at `key` of `table` (others are skipped); [] when missing. */
export function tomlStrings(table: TomlTable | undefined, key: string): string[] {
  const v = table?.[key];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
