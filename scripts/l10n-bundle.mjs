// The English l10n bundle (l10n/bundle.l10n.json) from the source: every vscode.l10n.t('…')
// message, keyed by itself. `node scripts/l10n-bundle.mjs` writes it; `--check` fails when it is
// out of date (a unit test runs that). Translations are l10n/bundle.l10n.LOCALE.json with the same keys.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Every message passed to l10n.t as a string literal in src/extension, sorted. */
export function l10nMessages() {
  const dir = path.join(root, 'src', 'extension');
  const out = new Set();
  for (const f of fs.readdirSync(dir, { recursive: true })) {
    if (!String(f).endsWith('.ts')) continue;
    const text = fs.readFileSync(path.join(dir, String(f)), 'utf8');
    // Either quote: a formatter writes 'Don\'t' as "Don't".
    for (const m of text.matchAll(/l10n\.t\(\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/g))
      out.add((m[1] ?? m[2] ?? '').replace(/\\(.)/g, '$1'));
  }
  return [...out].sort();
}

export function bundleText() {
  return `${JSON.stringify(Object.fromEntries(l10nMessages().map((m) => [m, m])), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = path.join(root, 'l10n', 'bundle.l10n.json');
  if (process.argv.includes('--check')) {
    if (fs.readFileSync(file, 'utf8') !== bundleText()) {
      console.error('l10n/bundle.l10n.json is out of date: run node scripts/l10n-bundle.mjs');
      process.exit(1);
    }
  } else {
    fs.writeFileSync(file, bundleText());
  }
}
