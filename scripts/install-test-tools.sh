#!/usr/bin/env bash
# Install what the browser and snippet tests need beyond pip: Debian's chromium
# and Node's openai package. Skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Debian's chromium is missing: run 'sudo apt-get install chromium' and try again." >&2
    exit 1
  fi
fi
if [ -f tests/node/package.json ] && [ ! -d tests/node/node_modules ]; then
  (cd tests/node && npm ci --silent --no-audit --no-fund)
fi
