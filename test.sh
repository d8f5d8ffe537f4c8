#!/usr/bin/env bash
# Sets up (if needed), lints and runs every test: unit, property, golden files, and integration
# tests against a real Synapse that the tests start themselves.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
# Debian's parts the tests use: faketime (the integration tests run Synapse and the bot on a clock
# they can move forward, testing/clock.py) and poppler-utils (pdfinfo reads the tagged PDF back).
missing=()
[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || missing+=(faketime)
command -v pdfinfo >/dev/null || missing+=(poppler-utils)
# and Chromium, which Playwright drives for the live view's tests (never a browser of its own)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
    (apt-get install -y -qq "${missing[@]}" || { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; }) >/dev/null
fi
# LiveKit's server for the tests of sound and picture from the call: a Go program, built once into
# the user's cache (testing/livekit.py says which version and why). Without Go those tests skip,
# except in CI, where a server that cannot be built fails the run.
.venv/bin/python -m testing.livekit >/dev/null || [ -z "${CI:-}" ]
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports  # the import rules (pyproject.toml, [tool.importlinter])
exec .venv/bin/python -m pytest "$@"
