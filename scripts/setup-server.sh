#!/usr/bin/env bash
# Installs what vana-server's tests and load benchmark need: a Python venv with the official
# `openai` client and `httpx-sse` (PyPI), and `wrk` (Debian) for the load benchmark.
# Idempotent and quiet; fast when everything is present.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.cache/server-venv"
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

if ! command -v wrk >/dev/null 2>&1; then
    # wrk: the HTTP load generator of the benchmark (a second process on loopback).
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
echo "setup-server: venv at $VENV, wrk at $(command -v wrk)"
