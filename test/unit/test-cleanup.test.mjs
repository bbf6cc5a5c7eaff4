// The tests' clean-up helper (test/helpers.mjs): a failing clean-up must not skip the others, or an
// extension stays active and its timers and processes keep the test file from ever exiting.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { repoRoot, tempDir } from '../helpers.mjs';

test('clean-ups run last in, first out, every one of them even when one fails, and the test fails', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'inner.test.mjs');
  const helpers = pathToFileURL(path.join(repoRoot, 'test', 'helpers.mjs')).href;
  fs.writeFileSync(
    file,
    `import { test } from 'node:test';
import { cleanup } from ${JSON.stringify(helpers)};
test('inner', (t) => {
  cleanup(t, () => console.log('ran: made first'));
  cleanup(t, () => { console.log('ran: fails'); throw new Error('clean-up failed'); });
  cleanup(t, async () => console.log('ran: made last'));
});
`,
  );
  // Its own run, not a child of this one (which would report in the runner's binary protocol).
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, ['--test', file], { encoding: 'utf8', env });
  const ran = r.stdout
    .split('\n')
    .filter((l) => l.includes('ran: '))
    .map((l) => l.slice(l.indexOf('ran: ') + 5));
  assert.deepEqual(ran, ['made last', 'fails', 'made first'], r.stdout);
  assert.equal(r.status, 1, 'the failure is reported');
  assert.match(r.stdout, /clean-up failed/);
});
