// One translator for every message: vscode.l10n.t once the extension has started (useTranslator),
// the English text with {0}-style arguments filled in before that and in the pure modules' unit
// tests. Pure modules (render, locktree) import this instead of `vscode`. Messages are the keys of
// l10n/bundle.l10n.json, which scripts/l10n-bundle.mjs builds from the `l10n.t('…')` calls.
type Arg = string | number | boolean;
type Translate = (message: string, ...args: Arg[]) => string;

const english: Translate = (message, ...args) =>
  message.replace(/\{(\d+)\}/g, (m, i: string) =>
    args[Number(i)] === undefined ? m : String(args[Number(i)]),
  );
let translate: Translate = english;

export const l10n = {
  t: (message: string, ...args: Arg[]): string => translate(message, ...args),
};

export function useTranslator(t: Translate): void {
  translate = t;
}
