#!/usr/bin/env bash
# Sets up (if needed), lints and runs every test: unit, property, golden files, and integration
# tests against a real Synapse that the tests start themselves.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
# LiveKit's server for the tests of sound and picture from the call: a Go program, built once into
# the user's cache (testing/livekit.py says which version and why; a second run finds it there).
# Built in the background while the other tests run, at the lowest priority and one package at a
# time so that they keep a core; the tests that need it run last and wait for it, and fail in CI
# saying what is missing when it cannot be had (elsewhere they skip).
GOMAXPROCS=1 GOFLAGS="${GOFLAGS:+$GOFLAGS }-p=1" nice -n 19 .venv/bin/python -m testing.livekit >/dev/null 2>&1 &
# Debian's parts the tests use: faketime (the integration tests run Synapse and the bot on a clock
# they can move forward, testing/clock.py), poppler-utils (pdfinfo reads the tagged PDF back) and
# postgresql (the PostgreSQL store's tests start a throwaway server of their own, testing/postgres.py).
missing=()
[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || missing+=(faketime)
command -v pdfinfo >/dev/null || missing+=(poppler-utils)
command -v pg_ctl >/dev/null || compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || missing+=(postgresql)
# and Chromium, which Playwright drives for the live view's tests (never a browser of its own)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
    (apt-get install -y -qq "${missing[@]}" || { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; }) >/dev/null
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports  # the import rules (pyproject.toml, [tool.importlinter])
exec .venv/bin/python -m pytest "$@"
