#!/usr/bin/env bash
# Installs what vana-server's tests and load benchmark need: a Python venv with the official
# `openai` client and `httpx-sse` (PyPI), schemathesis (PyPI, pinned) for the API fuzzing test
# (crates/vana/tests/api_fuzz.rs), and `wrk` (Debian) for the load benchmark.
# Idempotent and quiet; fast when everything is present.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.cache/server-venv"
# The API fuzzer, pinned: a new release may add checks, which must be a deliberate upgrade.
SCHEMATHESIS=4.32.5
PY=/usr/bin/python3
[ -x "$PY" ] || PY="$(command -v python3)"

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import openai, httpx, httpx_sse' 2>/dev/null; then
    mkdir -p "$ROOT/.cache"
    if ! "$PY" -m venv "$VENV" 2>/dev/null; then
        # Debian's python needs the venv package.
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
        "$PY" -m venv "$VENV"
    fi
    "$VENV/bin/pip" install -q --disable-pip-version-check 'openai>=1.50' 'httpx' 'httpx-sse>=0.4'
fi
if [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" != "$SCHEMATHESIS" ]; then
    "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS"
fi

if ! command -v wrk >/dev/null 2>&1; then
    # wrk: the HTTP load generator of the benchmark (a second process on loopback).
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
echo "setup-server: venv at $VENV (schemathesis $SCHEMATHESIS), wrk at $(command -v wrk)"
