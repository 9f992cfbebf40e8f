#!/usr/bin/env bash
# Installs what the ADK compatibility tests need: the pinned `google-adk` wheel (PyPI) and the
# official `openai` client into a venv under .cache/adk-venv. The ADK web UI's static files
# (google/adk/cli/browser) are served by tests-browser/tests/adk-ui.test.mjs in front of a real
# `vana serve`; ADK's own AdkWebServerClient drives crates/vana/tests/adk_client.rs.
# Idempotent and quiet; fast when everything is present.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.cache/adk-venv"
# Pinned: the UI and the client are what VANA is checked against; a new release is a
# deliberate upgrade.
ADK=2.13.0
PY=/usr/bin/python3
[ -x "$PY" ] || PY="$(command -v python3)"

have() {
    [ -x "$VENV/bin/python" ] &&
        [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("google-adk"))' 2>/dev/null)" = "$ADK" ] &&
        "$VENV/bin/python" -c 'import openai, httpx, google.adk.cli.conformance.adk_web_server_client' 2>/dev/null
}

if ! have; then
    mkdir -p "$ROOT/.cache"
    if [ ! -x "$VENV/bin/python" ]; then
        if ! "$PY" -m venv "$VENV" 2>/dev/null; then
            # Debian's python needs the venv package.
            apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
            "$PY" -m venv "$VENV"
        fi
    fi
    "$VENV/bin/pip" install -q --disable-pip-version-check "google-adk==$ADK" 'openai>=1.50' 'httpx'
fi
echo "setup-adk: google-adk $ADK and openai in $VENV"
