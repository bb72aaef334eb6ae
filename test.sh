#!/usr/bin/env bash
# Run the whole test suite: install what it needs, then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/ensure-venv.sh
ensure_venv requirements-dev.txt
scripts/install-test-tools.sh
if [ "$#" -eq 0 ]; then
  # The whole run also checks lint, formatting and types; a run with
  # arguments is a developer's quick loop and skips them.
  .venv/bin/ruff check .
  .venv/bin/ruff format --check .
  .venv/bin/mypy
fi
.venv/bin/python -m pytest "$@"
