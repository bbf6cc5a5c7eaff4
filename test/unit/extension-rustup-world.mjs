// The worlds of the extension's rustup tests (extension-rustup.test.mjs): a private rustup home with
// a stand-in rustup (test/fixtures/fake-rustup.mjs) or the real rustup on the test bed
// (test/fixtures/rustup-testbed.mjs), a folder pinned by its rust-toolchain.toml, and a managed
// server, set up in process.env and the fake vscode's settings for the extension under test.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FIXTURES } from '../fixtures/cli-harness.mjs';
import { rustupSource, rustupTestbed } from '../fixtures/rustup-testbed.mjs';
import {
  cleanup,
  fakeContext,
  fakeServerPath,
  hostTriple,
  setEnv,
  tempDir,
  vscode,
} from './extension-harness.mjs';

const { state } = vscode;
const triple = hostTriple;
const full = (n) => `${n}-${triple}`;

/** world() and realWorld() for the bundled extension `getExt()` returns (its engine names keys and reads locks). */
export function rustupWorlds(getExt) {
  const ENV_KEYS = [
    'RUSTUP_HOME',
    'RUSTUP_TOOLCHAIN',
    'PATH',
    'TOOLCHAIN_LOCK_DIR',
    'FAKE_RUSTUP_LOG',
    'FAKE_RUSTUP_HOST',
    'FAKE_RUSTUP_EXIT',
    'FAKE_RUSTUP_ERROR',
    'FAKE_RUSTUP_HANG',
  ];

  /**
   * A rustup home with stable (the default) and nightly, a folder pinned to `pin` by its
   * rust-toolchain.toml, a managed server (user settings, no "toolchain": the folder's), and the
   * stand-in rustup first on PATH. The lock directory is set in the settings only: whatever the
   * stand-in's `status --json` sees, it sees because the extension passed that directory on.
   */
  function world(t, { pin = '1.80.0', toml = '' } = {}) {
    const root = tempDir(t);
    const rustupHome = path.join(root, 'rustup');
    for (const n of ['stable', 'nightly'])
      fs.mkdirSync(path.join(rustupHome, 'toolchains', full(n), 'bin'), { recursive: true });
    fs.writeFileSync(
      path.join(rustupHome, 'settings.toml'),
      `default_host_triple = "${triple}"\ndefault_toolchain = "${full('stable')}"\n`,
    );
    const project = path.join(root, 'proj');
    fs.mkdirSync(project);
    fs.writeFileSync(
      path.join(project, 'rust-toolchain.toml'),
      `[toolchain]\nchannel = "${pin}"\n${toml}`,
    );
    const bin = path.join(root, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(
      path.join(bin, 'rustup'),
      `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(FIXTURES, 'fake-rustup.mjs'))} "$@"\n`,
      { mode: 0o755 },
    );
    const rustupLog = path.join(root, 'rustup.log');
    const lockDir = path.join(root, 'locks');
    const serverLog = path.join(root, 'server.log');

    setEnv(t, {
      ...Object.fromEntries(ENV_KEYS.map((k) => [k, undefined])),
      RUSTUP_HOME: rustupHome,
      PATH: `${bin}${path.delimiter}${process.env.PATH}`,
      FAKE_RUSTUP_LOG: rustupLog,
      FAKE_RUSTUP_HOST: triple,
    });

    state.globalConfig['toolchainLock.lockDir'] = lockDir;
    state.globalConfig['toolchainLock.servers'] = [
      {
        id: 'fake-ls',
        command: process.execPath,
        args: [fakeServerPath],
        env: { FAKE_LS_LOG: serverLog },
        documentSelector: [{ language: 'plaintext' }],
      },
    ];
    state.folders = [project];
    const context = fakeContext(root);
    /** The stand-in's records since the last call. */
    const calls = () => {
      const text = fs.existsSync(rustupLog) ? fs.readFileSync(rustupLog, 'utf8') : '';
      fs.rmSync(rustupLog, { force: true });
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    };
    const dirOf = (n) => path.join(rustupHome, 'toolchains', full(n));
    const keyOf = (n) =>
      getExt().module.engine.toolchainKey(getExt().module.engine.canonicalToolchainPath(dirOf(n)));
    const lockOf = (n) =>
      getExt().module.engine.status({ lockDir, toolchains: [{ name: n, path: dirOf(n) }] })[0];
    return {
      root,
      rustupHome,
      project,
      lockDir,
      rustupLog,
      context,
      calls,
      dirOf,
      keyOf,
      lockOf,
      env: () => ({ ...process.env, TOOLCHAIN_LOCK_DIR: lockDir }),
    };
  }

  const BED_KEYS = [
    'CARGO_HOME',
    'RUSTUP_DIST_SERVER',
    'RUSTUP_UPDATE_ROOT',
    'RUSTUP_TERM_COLOR',
    'CARGO_TERM_COLOR',
    'CARGO_NET_OFFLINE',
    'NO_PROXY',
    'no_proxy',
    'RUSTUP_AUTO_INSTALL',
  ];

  /**
   * world() with the real rustup: a bed (stable installed, the default) whose dist is served over
   * HTTP, its environment in process.env for the extension. `locksAt(channel)` are the locks (key,
   * mode) the lock directory showed when rustup asked for that channel's manifest; `hold(channel)`
   * keeps that request pending until `release()`; `fail(channel)` answers it 404 once. Null (the test
   * skipped) without rustup.
   */
  async function realWorld(t, options = {}) {
    if (rustupSource() === null) {
      console.log('skipped: no rustup');
      t.skip('no rustup');
      return null;
    }
    const bed = await rustupTestbed();
    cleanup(t, () => bed.cleanup());
    const w = world(t, options);
    const seen = new Map();
    const holds = new Map();
    const failing = new Set();
    const manifest = (channel) => `/dist/channel-rust-${channel}.toml.sha256`;
    const served = await bed.serve({
      onRequest: async (p) => {
        const channel = /^\/dist\/channel-rust-(.+)\.toml\.sha256$/.exec(p)?.[1];
        if (channel === undefined) return undefined;
        seen.set(
          channel,
          getExt()
            .module.engine.status({ lockDir: w.lockDir })
            .filter((l) => l.state !== 'free')
            .map((l) => [l.key, l.state]),
        );
        if (failing.delete(channel)) return 404;
        await holds.get(channel)?.promise;
        return undefined;
      },
    });
    cleanup(t, () => served.close());
    // world() puts back ENV_KEYS.
    setEnv(t, Object.fromEntries(BED_KEYS.map((k) => [k, undefined])));
    for (const k of ENV_KEYS) if (k !== 'TOOLCHAIN_LOCK_DIR') delete process.env[k];
    for (const k of ['PATH', 'RUSTUP_HOME', ...BED_KEYS])
      if (served.env[k] !== undefined) process.env[k] = served.env[k];
    // Report, never install behind the extension's back (a proxy call of a missing toolchain).
    process.env.RUSTUP_AUTO_INSTALL = '0';
    const dirOf = (n) => bed.toolchainDir(n);
    const keyOf = (n) =>
      getExt().module.engine.toolchainKey(getExt().module.engine.canonicalToolchainPath(dirOf(n)));
    const lockOf = (n) =>
      getExt().module.engine.status({
        lockDir: w.lockDir,
        toolchains: [{ name: n, path: dirOf(n) }],
      })[0];
    return {
      ...w,
      bed,
      served,
      rustupHome: bed.rustupHome,
      dirOf,
      keyOf,
      lockOf,
      locksAt: (channel) => seen.get(channel),
      asked: (channel) => served.requests.includes(manifest(channel)),
      hold(channel) {
        let release;
        const promise = new Promise((resolve) => (release = resolve));
        holds.set(channel, { promise });
        return () => release();
      },
      fail: (channel) => failing.add(channel),
    };
  }

  return { world, realWorld };
}
