#!/usr/bin/env bash
# Run the whole test suite: install what it needs, then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/ensure-venv.sh
ensure_venv requirements-dev.txt
scripts/install-test-tools.sh
.venv/bin/python -m pytest "$@"
