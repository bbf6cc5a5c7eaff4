// A process that exits holding locks leaves no records behind, in every lock directory it used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot, tempDir } from '../helpers.mjs';

test('exit with locks held in two lock directories removes the records in both', (t) => {
  const root = tempDir(t);
  const dirs = ['a', 'b'].map((d) => path.join(root, d));
  const tc = path.join(root, 'tc');
  fs.mkdirSync(tc);
  const script = `
    const engine = require(${JSON.stringify(path.join(repoRoot, 'dist', 'lock.js'))});
    (async () => {
      for (const lockDir of ${JSON.stringify(dirs)}) await engine.acquireRead({ name: 'tc', path: ${JSON.stringify(tc)} }, { lockDir });
      const records = ${JSON.stringify(dirs)}.map((d) => require('fs').readdirSync(d).filter((f) => f.endsWith('.json') && f.includes('~')).length);
      console.log(JSON.stringify(records));
      process.exit(0);
    })();`;
  const held = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
  assert.deepEqual(held, [1, 1], 'each directory had a record while the locks were held');
  for (const d of dirs) {
    assert.deepEqual(fs.readdirSync(d).filter((f) => f.includes('~')), [], `no record left in ${d}`);
  }
});
