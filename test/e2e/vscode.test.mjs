// e2e: the packaged extension in a real VS Code (code-server 4.100.3) driven through headless
// Chromium. The VSIX is packaged once for the whole run; every scenario group gets its own
// code-server, lock dir, workspace, user-data and extensions dirs. Screenshots of each step go to
// test-artifacts/e2e-*.png (those of an earlier run are removed first).
import fs from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { commandCollision } from './command-collision.mjs';
import { electronSuite } from './electron-suite.mjs';
import { artifactsDir } from './harness.mjs';
import { packageVsix } from './support.mjs';
import { trustScenario } from './trust-scenario.mjs';
import { windowScenarios } from './window-scenarios.mjs';

let packaged;
before(() => {
  for (const name of fs.existsSync(artifactsDir) ? fs.readdirSync(artifactsDir) : []) {
    if (/^e2e-.*\.png$/.test(name)) fs.rmSync(path.join(artifactsDir, name));
  }
  packaged = packageVsix();
});
after(() => packaged?.cleanup());

const vsix = () => packaged.vsix;
windowScenarios(vsix);
trustScenario(vsix);
electronSuite(vsix);
commandCollision(vsix);
