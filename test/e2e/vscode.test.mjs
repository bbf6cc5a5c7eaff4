// e2e: the packaged extension in a real VS Code (code-server 4.100.3: VS Code 1.100 on Node 20)
// driven through headless Chromium. Screenshots: test-artifacts/e2e-*.png. With
// TOOLCHAIN_LOCK_SCREENSHOTS=media this run also saves the README's media/screenshot-*.png.
import { e2eSuite } from './suite.mjs';

e2eSuite('4.100.3');
