#!/usr/bin/env bash
# Debian/Ubuntu packages the tests and the demo need: Chromium for the e2e tests (never a
# downloaded browser), ripgrep and Kerberos headers for code-server, util-linux for flock(1) and
# unshare(1), a compiler for the native lock module.
set -euo pipefail
pkgs=(chromium ripgrep libkrb5-dev util-linux build-essential python3)
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
