// Lint of the TypeScript sources (npm run lint, run by npm test): typescript-eslint's
// recommended rules with type information, plus the house rules STYLE.md names. Formatting is
// not linted here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
);
