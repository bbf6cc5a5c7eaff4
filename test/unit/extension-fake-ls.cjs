// A minimal LSP server over stdio for the extension tests. FAKE_LS_LOG: file to append events to.
// FAKE_LS_MODE: "normal" | "hang" (never answers shutdown, ignores SIGTERM) | "orphan" (leaves a child).
// FAKE_LS_CHILD: a program to run as a helper with a stdin pipe, as rust-analyzer runs the
// toolchain's proc-macro server; it goes when our stdin pipe to it closes (when we exit).
'use strict';
const fs = require('node:fs');
const { spawn } = require('node:child_process');
const mode = process.env.FAKE_LS_MODE || 'normal';
const log = (e) => {
  try {
    if (process.env.FAKE_LS_LOG)
      fs.appendFileSync(process.env.FAKE_LS_LOG, `${process.pid} ${e}\n`);
  } catch {
    // The test's directory is gone already.
  }
};
if (mode === 'hang') process.on('SIGTERM', () => log('ignored SIGTERM'));
log(
  `started held=${process.env.TOOLCHAIN_LOCK_HELD || ''} auto-install=${process.env.RUSTUP_AUTO_INSTALL ?? ''}`,
);
if (mode === 'orphan') {
  const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  log(`child ${c.pid}`);
}
if (process.env.FAKE_LS_CHILD) {
  const helper = spawn(process.env.FAKE_LS_CHILD, [], { stdio: ['pipe', 'ignore', 'ignore'] });
  helper.on('error', (e) => log(`helper error ${e.message}`));
  log(`helper ${helper.pid}`);
}
let buf = Buffer.alloc(0);
const send = (msg) => {
  const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...msg }));
  process.stdout.write(`Content-Length: ${body.length}\r\n\r\n`);
  process.stdout.write(body);
};
process.stdin.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  for (;;) {
    const sep = buf.indexOf('\r\n\r\n');
    if (sep < 0) return;
    const len = Number(/Content-Length: (\d+)/i.exec(buf.slice(0, sep).toString())[1]);
    if (buf.length < sep + 4 + len) return;
    const msg = JSON.parse(buf.slice(sep + 4, sep + 4 + len).toString());
    buf = buf.slice(sep + 4 + len);
    log(`recv ${msg.method ?? 'response'}`);
    if (msg.method === 'initialize') {
      // FAKE_LS_COMMANDS: server commands to advertise (workspace/executeCommand), comma-separated.
      const commands = (process.env.FAKE_LS_COMMANDS || '').split(',').filter(Boolean);
      send({
        id: msg.id,
        result: {
          capabilities: commands.length ? { executeCommandProvider: { commands } } : {},
          serverInfo: { name: 'fake-ls' },
        },
      });
    } else if (msg.method === 'shutdown') {
      if (mode !== 'hang') send({ id: msg.id, result: null });
    } else if (msg.method === 'exit') {
      if (mode !== 'hang') process.exit(0);
    } else if (msg.id !== undefined && msg.method) send({ id: msg.id, result: null });
  }
});
process.stdin.on('end', () => {
  log('stdin closed');
  if (mode !== 'hang') process.exit(0);
});
