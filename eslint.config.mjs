// Lint of the TypeScript sources (npm run lint, run by npm test): typescript-eslint's
// recommended rules with type information, plus the house rules STYLE.md names. Formatting is
// not linted here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The house's one-way arrows (CONTRIBUTING.md, "Where things are"): extension and cli →
// observe → toolchains → lock → lock/os. A folder is entered through its index.ts only; the OS
// seam takes nothing from above but the error vocabulary; the extension's state machine has no
// `vscode`. Each entry: files, and the import specifiers they may not use.
const layers = [
  {
    files: ['src/lock/os/**/*.ts'],
    regex: String.raw`^(vscode$|\.\./(?!errors$))`,
    message: 'src/lock/os is the lowest layer: it may import only ../errors from above.',
  },
  {
    files: ['src/lock/*.ts'],
    regex: String.raw`^(vscode$|\.\./|\./os/)`,
    message: 'src/lock knows nothing above it; it reaches the OS seam through ./os only.',
  },
  {
    files: ['src/toolchains/**/*.ts'],
    regex: String.raw`^(vscode$|\.\./(?!lock$))`,
    message: 'src/toolchains uses only src/lock, through its index.',
  },
  {
    files: ['src/observe/**/*.ts'],
    regex: String.raw`^(vscode$|\.\./(?!(lock|lock/os|toolchains)$))`,
    message:
      'src/observe uses src/lock (and its os seam) and src/toolchains, through their indexes.',
  },
  {
    files: ['src/cli/**/*.ts'],
    regex: String.raw`^(vscode$|\.\./(?!(lock|observe|toolchains)$))`,
    message: 'src/cli uses the layers below through their indexes, never the extension.',
  },
  {
    files: ['src/extension/*.ts'],
    regex: String.raw`^(\.\./(?!(lock|observe|toolchains)$)|\./[^/]+/)`,
    message:
      'src/extension uses the layers below and its own folders through their indexes, never the CLI.',
  },
  {
    files: ['src/extension/state/**/*.ts'],
    regex: String.raw`^(vscode$|\.\./(?!\.\./(lock|observe|toolchains)$))`,
    message:
      'The state machine (src/extension/state) has no vscode and nothing of the extension above it: it runs on a fake in unit tests.',
  },
  {
    files: [
      'src/extension/view/**/*.ts',
      'src/extension/actions/**/*.ts',
      'src/extension/servers/**/*.ts',
      'src/extension/terminal/**/*.ts',
    ],
    regex: String.raw`^(\.\./\.\./(?!(lock|observe|toolchains)$)|\.\./[^./]+/)`,
    message:
      'An extension folder uses the layers below and its sibling folders through their indexes, never the CLI.',
  },
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'out/**',
      'node_modules/**',
      'prebuilds/**',
      'test/**',
      'bench/**',
      'scripts/**',
      'media/**',
      '*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // STYLE.md: no default exports.
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'No default exports (STYLE.md).' },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      // Command handlers, lock handles and server units are async by their interface; one without
      // an await inside still keeps the promise contract (throws become rejections).
      '@typescript-eslint/require-await': 'off',
    },
  },
  ...layers.map(({ files, regex, message }) => ({
    files,
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex, message }] }] },
  })),
);
