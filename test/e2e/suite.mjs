// The whole e2e suite in one code-server version: the VSIX is packaged once for the run; every
// scenario group gets its own code-server, lock dir, workspace, user-data and extensions dirs.
// Each *.test.mjs calls e2eSuite once with its version (one test file = one process = one version).
// Screenshots of each step go to artifactsDir() (those of an earlier run are removed first).
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import { CODE_SERVER_VERSIONS } from '../../scripts/code-server.mjs';
import { commandCollision } from './command-collision.mjs';
import { electronSuite } from './electron-suite.mjs';
import { artifactsDir, selectCodeServer } from './harness.mjs';
import { hostKillScenario } from './host-kill-scenario.mjs';
import { rustAnalyzerScenario } from './rust-analyzer-scenario.mjs';
import { marketplaceScenario } from './marketplace-scenario.mjs';
import { settingsScenario } from './settings-scenario.mjs';
import { packageVsix } from './support.mjs';
import { trustScenario } from './trust-scenario.mjs';
import { unlockedScenario } from './unlocked-scenario.mjs';
import { windowScenarios } from './window-scenarios.mjs';

export function e2eSuite(version) {
  selectCodeServer(version);
  const { vscode, node } = CODE_SERVER_VERSIONS[version];
  describe(`code-server ${version} (VS Code ${vscode}, Node ${node})`, () => {
    let packaged;
    before(() => {
      const dir = artifactsDir();
      for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
        if (/^e2e-.*\.png$/.test(name)) fs.rmSync(path.join(dir, name));
      }
      packaged = packageVsix();
    });
    after(() => packaged?.cleanup());

    const vsix = () => packaged.vsix;
    windowScenarios(vsix);
    hostKillScenario(vsix);
    trustScenario(vsix);
    // Same extension code in both; under automation VS Code 1.139's command palette does not open
    // again once settings.json has been edited and saved, so the scenario runs in 1.100 only.
    settingsScenario(vsix, {
      skip:
        version === '4.100.3'
          ? false
          : 'VS Code 1.139: the command palette does not reopen over an edited settings.json under automation',
    });
    electronSuite(vsix);
    commandCollision(vsix);
    unlockedScenario(vsix);
    rustAnalyzerScenario(vsix);
    marketplaceScenario(vsix);
  });
}
