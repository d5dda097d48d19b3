#!/usr/bin/env bash
# Installs what the end-to-end tests need to run a REAL VS Code headless:
#   - Debian packages: chromium (driven by playwright-core), ripgrep, libkrb5-dev + pkg-config (native builds)
#   - code-server (VS Code server + web workbench) from the npm registry into test/e2e/.cache/
# Idempotent: a stamp file makes a warm run take well under a second.
#
# Only the npm registry and Debian apt are reachable on our machines: code-server's own postinstall downloads
# ripgrep from GitHub and cancels `npx node-gyp` (global npmrc has yes=false), so it is done here by hand.
#
# Usage: bash test/e2e/setup.sh            (FORCE=1 reinstalls code-server)
set -euo pipefail

CS_VERSION=4.100.3   # newest code-server that runs on Node 20 (= VS Code 1.100.3)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=$HERE/.cache
CSDIR=$CACHE/code-server-$CS_VERSION
STAMP=$CSDIR/.installed
CS_BIN=$CSDIR/node_modules/code-server/out/node/entry.js
# Native modules are built for one Node ABI: a different node means a rebuild.
STAMP_TEXT="code-server $CS_VERSION node $(node -p 'process.versions.modules + " " + process.arch')"

now_ms() { date +%s%3N; }
T_ALL=$(now_ms)
elapsed() { local d=$(( $(now_ms) - $1 )); echo "$(( d / 1000 )).$(( d % 1000 / 100 ))s"; }
say() { echo "[e2e setup] $*"; }

# ------------------------------------------------------------------ Debian packages
need_pkgs=()
command -v chromium >/dev/null 2>&1 || need_pkgs+=(chromium)
command -v rg >/dev/null 2>&1 || need_pkgs+=(ripgrep)
command -v pkg-config >/dev/null 2>&1 || need_pkgs+=(pkg-config)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_pkgs+=(libkrb5-dev)
for tool in make g++ python3; do   # node-gyp (native modules of code-server)
  command -v $tool >/dev/null 2>&1 || need_pkgs+=("$tool")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  T=$(now_ms)
  SUDO=
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say "missing Debian packages ${need_pkgs[*]} and not root"; exit 1; }
    SUDO=sudo
  fi
  say "installing Debian packages: ${need_pkgs[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  say "Debian packages: $(elapsed "$T")"
fi

# ------------------------------------------------------------------ code-server
mkdir -p "$CACHE"
# Two setups at once (e.g. two vitest runs) must not build into the same folder.
exec 9>"$CACHE/.setup.lock"
flock 9

if [ "${FORCE:-0}" != 1 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$STAMP_TEXT" ] && [ -f "$CS_BIN" ]; then
  say "code-server $CS_VERSION already installed ($(elapsed "$T_ALL"))"
  exit 0
fi

T=$(now_ms)
say "installing code-server $CS_VERSION into ${CSDIR#"$PWD"/}"
# A folder without a (matching) stamp is a half-finished or stale install: start over.
rm -rf "$CSDIR"
mkdir -p "$CSDIR/tmp"
export TMPDIR=$CSDIR/tmp   # node-gyp and npm scratch files stay in the cache
cd "$CSDIR"
printf '{ "name": "e2e-code-server", "private": true }\n' > package.json
npm install --no-audit --no-fund --loglevel=error --ignore-scripts "code-server@$CS_VERSION"
say "  npm install code-server: $(elapsed "$T")"
T2=$(now_ms)
npm rebuild --loglevel=error argon2                # its prebuilt download fails here; compiles with node-gyp
cd node_modules/code-server/lib/vscode
npm install --no-audit --no-fund --loglevel=error --omit=dev --ignore-scripts
# @vscode/ripgrep's postinstall downloads rg from GitHub; it exits early when bin/ already exists.
mkdir -p node_modules/@vscode/ripgrep/bin
cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
npm_config_yes=true npm rebuild --loglevel=error    # node-pty, spdlog, kerberos, watchdog, ... from source
# What code-server's postinstall.sh would have done:
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sfn code-linux.sh code-server)
(cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
(cd extensions && npm install --no-audit --no-fund --loglevel=error --omit=dev >/dev/null)   # prints every file it prunes
say "  native builds + built-in extensions: $(elapsed "$T2")"

cd "$CSDIR"
rm -rf "$CSDIR/tmp"
node "$CS_BIN" --version >/dev/null
printf '%s' "$STAMP_TEXT" > "$STAMP"
say "code-server installed: $(elapsed "$T"), total $(elapsed "$T_ALL")"
