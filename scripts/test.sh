#!/usr/bin/env bash
# Run every check: lint, types and the whole test suite against a real PostgreSQL
# (CREDWATCH_TEST_DSN when set, otherwise one the tests start themselves).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh --test
bash scripts/venv.sh
. .venv/bin/activate
ruff check .
ruff format --check .
mypy
# pytest exits 5 when it collects nothing: that fails here like any other error.
python -m pytest -q -p no:cacheprovider "$@"
