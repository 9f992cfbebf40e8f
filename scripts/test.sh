#!/usr/bin/env bash
# Runs VANA's whole test suite on a fresh machine: installs what the tests need, starts the
# services, then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
export VANA_MCP_HOME="$PWD/.cache/mcp"
for setup in scripts/setup-*.sh; do
  [ -e "$setup" ] || continue
  echo "== $setup"
  bash "$setup"
done
bash scripts/services.sh
cargo test --workspace --locked "$@"
