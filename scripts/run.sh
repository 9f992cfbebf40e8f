#!/usr/bin/env bash
# Builds and runs VANA on a fresh machine: installs the build prerequisites that are missing
# (llama.cpp for the embedded local model needs cmake, clang and libclang-dev), then
# `cargo run --release -- ARGS`. Model files are provisioned by VANA itself on first use.
#   ./scripts/run.sh serve --no-auth      # web UI and API on http://127.0.0.1:8080
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-local.sh >&2
# Debian python3 with pandas and numpy for sandboxed code (a warning, not a stop, without apt).
bash scripts/setup-sandbox.sh >&2 || echo "run.sh: scripts/setup-sandbox.sh failed; sandboxed Python may lack pandas" >&2
exec cargo run --release -- "$@"
