#!/usr/bin/env bash
# Sets up (if needed), lints and runs every test: unit, property, golden files, and integration
# tests against a real Synapse that the tests start themselves.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
# The integration tests run Synapse and the bot on a clock they can move forward (testing/clock.py).
if [ ! -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] && [ "$(id -u)" = 0 ]; then
    (apt-get install -y -qq faketime || { apt-get update -qq && apt-get install -y -qq faketime; }) >/dev/null
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
