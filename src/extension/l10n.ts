// One translator for every message: vscode.l10n.t once the extension has started (useTranslator),
// the English text with {0}-style arguments filled in before that and in the pure modules' unit
// tests. Pure modules (render, locktree) import this instead of `vscode`. Messages are the keys of
// l10n/bundle.l10n.json, which scripts/l10n-bundle.mjs builds from the `l10n.t('…')` calls.
//
// Log lines (this.log.info/warn/error, the "Toolchain Lock" output channel) stay English whatever
// the display language: they are what a bug report quotes, next to the lock engine's and the CLI's
// own English. So do Copy details (the clipboard's text goes into bug reports too) and the lock
// engine's descriptions of holders. What the user reads as the answer to their action is
// localized: notifications, pickers, progress, the status bar, the Locks view, and the
// "Toolchain Lock Update" channel's own lines (the command's output is the command's). A message
// that is both shown and logged is written once, as a function of a `Messages` (`bilingual`, or
// called with `english` for the log and `vscode.l10n` for the user); that parameter is named `l10n`
// so that scripts/l10n-bundle.mjs finds the messages in its `l10n.t('…')` calls.
type Arg = string | number | boolean;
type Translate = (message: string, ...args: Arg[]) => string;

/** Anything with a `t`: `l10n` here, `vscode.l10n`, or `english`. */
export interface Messages {
  t(message: string, ...args: Arg[]): string;
}

const fill: Translate = (message, ...args) =>
  message.replace(/\{(\d+)\}/g, (m, i: string) =>
    args[Number(i)] === undefined ? m : String(args[Number(i)]),
  );
let translate: Translate = fill;

export const l10n: Messages = {
  t: (message: string, ...args: Arg[]): string => translate(message, ...args),
};

/** The English text of a message, for the log, whatever translator is in use. */
export const english: Messages = { t: fill };

/** A message the log keeps in English and the user reads translated. */
export interface Bilingual {
  readonly english: string;
  readonly shown: string;
}

/** `say` twice: in English for the log, with the translator in use for the user. */
export function bilingual(say: (l10n: Messages) => string): Bilingual {
  return { english: say(english), shown: say(l10n) };
}

export function useTranslator(t: Translate): void {
  translate = t;
}
