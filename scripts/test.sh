#!/usr/bin/env bash
# Set up (scripts/setup.sh test), lint, and run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
.venv/bin/ruff check src tests benchmarks scripts experiments
.venv/bin/ruff format --check src tests benchmarks scripts experiments
.venv/bin/python -m pytest "$@"
