// A stand-in for `rustup update`: rewrites the demo toolchain's files over a few seconds, the way a
// real update leaves a directory half-written while it runs.
//   node scripts/demo-update.mjs TOOLCHAIN_DIR [SECONDS]
import * as fs from 'node:fs';
import * as path from 'node:path';

const [dir, seconds = '3'] = process.argv.slice(2);
if (!dir || !fs.existsSync(dir)) {
  console.error(`demo-update: no toolchain directory ${dir ?? '(none given)'}`);
  process.exit(2);
}
const versionFile = path.join(dir, 'VERSION');
const next = (Number.parseInt(fs.readFileSync(versionFile, 'utf8'), 10) || 0) + 1;
const steps = 6;
console.log(`demo-update: updating ${dir} to version ${next}`);
fs.writeFileSync(versionFile, 'updating\n');
for (let i = 1; i <= steps; i++) {
  await new Promise((r) => setTimeout(r, (Number(seconds) * 1000) / steps));
  console.log(`demo-update: step ${i}/${steps}`);
}
fs.writeFileSync(versionFile, `${next}\n`);
console.log(`demo-update: done, version ${next}`);
