#!/usr/bin/env bash
# Sets up (if needed), lints and runs every test: unit, property, golden files, and integration
# tests against a real Synapse that the tests start themselves.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
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
