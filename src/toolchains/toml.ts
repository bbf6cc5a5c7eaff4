/**
 * Just enough TOML for rustup's files: `[section]` headers and `key = "string"` pairs (bare,
 * "basic" or 'literal' keys and strings). Anything else (arrays, numbers, inline tables) is
 * skipped, so a richer file still yields its string settings.
 */
export type TomlStrings = ReadonlyMap<string, ReadonlyMap<string, string>>;

const KEY = String.raw`(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')`;
const STRING = String.raw`(?:"(?:[^"\\]|\\.)*"|'[^']*')`;
const PAIR = new RegExp(String.raw`^(${KEY})\s*=\s*(${STRING})\s*(?:#.*)?$`);
const SECTION = /^\[\s*([^\[\]]+?)\s*\](?:\s*#.*)?$/;

function unquote(token: string): string {
  if (token.startsWith("'")) return token.slice(1, -1);
  if (!token.startsWith('"')) return token;
  return token.slice(1, -1).replace(/\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)/g, (_m, e: string) => {
    switch (e[0]) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'u':
      case 'U':
        return String.fromCodePoint(parseInt(e.slice(1), 16));
      default:
        return e;
    }
  });
}

/** String values by section ('' for the top level) and key. */
export function parseTomlStrings(text: string): TomlStrings {
  const out = new Map<string, Map<string, string>>([['', new Map()]]);
  let section = out.get('')!;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = SECTION.exec(line);
    if (header) {
      const name = header[1]!.replace(/^"(.*)"$/, '$1');
      section = out.get(name) ?? new Map<string, string>();
      out.set(name, section);
      continue;
    }
    const pair = PAIR.exec(line);
    if (pair) section.set(unquote(pair[1]!), unquote(pair[2]!));
  }
  return out;
}
