// The runtimes check (scripts/test-runtimes.mjs) names the Debian package when a runtime cannot
// load a shared library (issue 19 item 1). The loader's message is written here as ld.so prints
// it (a stand-in: making qemu's loader miss a library needs a second sysroot); the programs it
// names are real ELF files of each machine, whose headers decide the package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describeEnd, elfMachine, missingLibraryHint } from '../runtimes/harness.mjs';

const AARCH64_LIBC = '/usr/aarch64-linux-gnu/lib/libc.so.6';
const loaderSays = (program, library) =>
  `${program}: error while loading shared libraries: ${library}: cannot open shared object file: No such file or directory\n`;

test(
  'a missing arm64 C++ runtime names libstdc++6-arm64-cross; the host one libstdc++6',
  { skip: !fs.existsSync(AARCH64_LIBC) && 'no aarch64 cross libc here' },
  () => {
    assert.equal(elfMachine(AARCH64_LIBC), 'aarch64');
    assert.equal(
      elfMachine(process.execPath),
      process.arch === 'x64' ? 'x86-64' : process.arch === 'arm64' ? 'aarch64' : null,
    );
    assert.match(
      missingLibraryHint(loaderSays(AARCH64_LIBC, 'libstdc++.so.6')),
      /install the Debian package libstdc\+\+6-arm64-cross/,
    );
    assert.match(
      missingLibraryHint(loaderSays(AARCH64_LIBC, 'libgcc_s.so.1')),
      /libgcc-s1-arm64-cross/,
    );
    if (process.arch === 'x64')
      assert.match(
        missingLibraryHint(loaderSays(process.execPath, 'libstdc++.so.6')),
        /install the Debian package libstdc\+\+6 /,
      );
    // A library we have no package for still says what to do; other failures add nothing.
    assert.match(
      missingLibraryHint(loaderSays(AARCH64_LIBC, 'libfoo.so.1')),
      /libfoo\.so\.1 for aarch64 is missing: .*apt-file search libfoo\.so\.1/,
    );
    assert.equal(missingLibraryHint('Segmentation fault\n'), '');
    const end = describeEnd({
      code: 127,
      signal: null,
      timedOut: false,
      ms: 10,
      stderr: loaderSays(AARCH64_LIBC, 'libstdc++.so.6'),
    });
    assert.match(
      end,
      /^exit 127 \(libstdc\+\+\.so\.6 for aarch64 is missing: install the Debian package libstdc\+\+6-arm64-cross/,
    );
  },
);
