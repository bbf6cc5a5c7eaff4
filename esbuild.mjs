// Three bundles: the extension (loaded by VS Code), the CLI (a bin), and the engine (taking locks
// and observing them) as a library for the tests, fixtures and benchmark (not shipped in the VSIX). vscode is provided by the
// editor; the native lock module is loaded at run time from prebuilds/ beside dist/.
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['vscode'],
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};

await Promise.all([
  esbuild.build({
    ...common,
    entryPoints: ['src/extension/main.ts'],
    outfile: 'dist/extension.js',
  }),
  esbuild.build({
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    banner: { js: '#!/usr/bin/env node' },
  }),
  esbuild.build({
    ...common,
    stdin: {
      contents: "export * from './src/lock';\nexport * from './src/observe';\n",
      resolveDir: import.meta.dirname,
      loader: 'ts',
      sourcefile: 'engine.ts',
    },
    outfile: 'dist/lock.js',
  }),
]);
