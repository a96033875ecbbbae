#!/usr/bin/env bash
# Prepares the browser test of it-tests (LivePageTest): Debian's chromium at /usr/bin/chromium, and playwright-core
# (from it-tests/browser/package-lock.json) under it-tests/browser/node_modules. Idempotent: it installs only what
# is missing. Run as root (apt-get); needs Debian packages and the npm registry, nothing else.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ ! -x /usr/bin/chromium ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup-browser: /usr/bin/chromium is missing and installing it needs root (apt-get)" >&2
    exit 1
  fi
  echo "setup-browser: installing Debian's chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends chromium
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "setup-browser: node and npm are needed (Debian: apt-get install nodejs npm; node >= 20)" >&2
  exit 1
fi

cd "$here/browser"
installed="node_modules/playwright-core/package.json"
wanted="$(node -e 'console.log(require("./package-lock.json").packages["node_modules/playwright-core"].version)')"
if [[ -f "$installed" ]] && [[ "$(node -e "console.log(require('./$installed').version)")" == "$wanted" ]]; then
  echo "setup-browser: playwright-core $wanted already installed"
else
  echo "setup-browser: npm ci (playwright-core $wanted)"
  npm ci --no-audit --no-fund
fi
echo "setup-browser: ready ($(/usr/bin/chromium --version 2>/dev/null | head -1))"
