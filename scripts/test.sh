#!/usr/bin/env bash
# The test command: set up everything the suite needs, then lint, type-check and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
.venv/bin/ruff check src tests benchmarks examples
.venv/bin/mypy
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
