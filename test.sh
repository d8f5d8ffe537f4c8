#!/usr/bin/env bash
# Sets up (if needed), lints and runs every test: unit, property, golden files, and integration
# tests against a real Synapse that the tests start themselves.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
