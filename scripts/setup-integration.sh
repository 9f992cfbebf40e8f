#!/usr/bin/env bash
# Installs what the Enterprise Integration and GitHub tools and their tests need:
# - Debian's `jq` (transform_data's filters are checked against the jq CLI);
# - npm `@simulacrum/github-api-simulator` (the GitHub tools are tested against it on 127.0.0.1;
#   it serves responses built from GitHub's own OpenAPI description) and npm `typescript`
#   (`tsc` type-checks generated TypeScript clients), into .cache/integration-node;
# - PyPI `openapi-generator-cli` (it ships the OpenAPI Generator jar, run with the machine's Java)
#   into .cache/integration-venv, plus Java (Debian's default-jre-headless) when it is missing.
# - the crates a generated Rust client depends on (crates/vana-tools-integration/tests/support/
#   rust-client-deps), fetched into cargo's cache so its `cargo check --offline` needs no network.
# Idempotent and quiet; fast when everything is present.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="$ROOT/.cache"
NODE_DIR="$CACHE/integration-node"
VENV="$CACHE/integration-venv"
SIM_VERSION="0.8.0"
TS_VERSION="5.9.3"
OAG_VERSION="7.26.0"

need=()
command -v jq >/dev/null 2>&1 || need+=(jq)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
command -v npm >/dev/null 2>&1 || need+=(npm)
# The HTTPS test of test_api_endpoint makes its CA and certificate with the openssl CLI.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# The sync tests read MariaDB tables back with its client.
command -v mariadb >/dev/null 2>&1 || need+=(mariadb-client)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

mkdir -p "$NODE_DIR"
if [ ! -f "$NODE_DIR/node_modules/@simulacrum/github-api-simulator/package.json" ] \
  || [ ! -x "$NODE_DIR/node_modules/.bin/tsc" ]; then
  (cd "$NODE_DIR" && [ -f package.json ] || echo '{"name":"vana-integration-tests","private":true}' > "$NODE_DIR/package.json")
  (cd "$NODE_DIR" && npm install --silent --no-audit --no-fund \
    "@simulacrum/github-api-simulator@$SIM_VERSION" "typescript@$TS_VERSION" >/dev/null)
fi

# The venv also holds what generated Python clients import (their requirements.txt), so the
# tests can import them and call a running `vana serve`.
if [ ! -x "$VENV/bin/openapi-generator-cli" ] || ! "$VENV/bin/python" -c "import pydantic, urllib3, dateutil" 2>/dev/null; then
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "openapi-generator-cli==$OAG_VERSION" \
    "pydantic>=2.11,<3" "urllib3>=2.7,<3" "python-dateutil>=2.8.2" "typing-extensions>=4.7.1"
fi

# Dependencies of generated Rust clients, into cargo's download cache (fast when present).
cargo fetch --quiet --manifest-path "$ROOT/crates/vana-tools-integration/tests/support/rust-client-deps/Cargo.toml"
