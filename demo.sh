#!/usr/bin/env bash
# Sets everything up and runs a whole remote meeting on a local homeserver (see README).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
exec .venv/bin/python demo.py "$@"
