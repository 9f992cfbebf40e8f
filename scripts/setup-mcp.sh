#!/usr/bin/env bash
# Installs the third-party MCP servers VANA's catalog and tests use, pinned, into one
# project-local folder (no global installs):
#   $VANA_MCP_HOME/node/node_modules/.bin   npm servers (and the MCP Inspector)
#   $VANA_MCP_HOME/bin                      PyPI servers, each in its own virtualenv under py/
#                                           (their pins of the `mcp` SDK differ); py/mcp holds the
#                                           Python `mcp` SDK client for the benchmark
# VANA looks for server commands in node_modules/.bin and bin before $PATH.
#
#   scripts/setup-mcp.sh          the servers the tests need (default)
#   scripts/setup-mcp.sh --all    also the catalog's account-based servers (brave, sentry, ...)
#
# VANA_MCP_HOME defaults to <VANA data dir>/mcp (~/.local/share/vana/mcp); the tests and CI use
# <repo>/.cache/mcp. Re-running is cheap: pinned packages already present are skipped.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
default_home="${VANA_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/vana}/mcp"
MCP_HOME="${VANA_MCP_HOME:-$default_home}"
all=0
[ "${1:-}" = "--all" ] && all=1

npm_pkgs=(
  "@modelcontextprotocol/server-everything@2026.8.31"
  "@modelcontextprotocol/server-filesystem@2026.8.31"
  "@modelcontextprotocol/server-postgres@0.6.2"
  "@modelcontextprotocol/server-memory@2026.8.31"
  "@playwright/mcp@0.0.83"
  "@modelcontextprotocol/inspector@2.12.0"
)
# One virtualenv per entry: the package, then extra pins it needs.
pip_pkgs=(
  "mcp-server-fetch==2026.10.24"
  "mcp-server-sqlite==2025.4.25 mcp==1.30.0"
  "mcp-server-time==2026.10.19"
  "mcp-server-git==2026.10.19"
  "mcp==2.3.0"
)
if [ "$all" = 1 ]; then
  npm_pkgs+=(
    "@brave/brave-search-mcp-server@2.1.4"
    "@sentry/mcp-server@0.39.0"
    "replicate-mcp@0.9.0"
    "mcp-server-docker@1.0.0"
  )
  pip_pkgs+=(
    "semgrep-mcp==0.9.0"
    "mcp-grafana==2.1.1"
    "awslabs.aws-api-mcp-server==1.5.6"
  )
fi

echo "MCP servers go to $MCP_HOME"
mkdir -p "$MCP_HOME/node" "$MCP_HOME/data"

# Chromium for @playwright/mcp (Debian's package; Playwright's own browser download is not used).
if [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: /usr/bin/chromium is missing; install Debian's chromium for the playwright server" >&2
  fi
fi

# npm servers, pinned, in one local package.
stamp_npm="$MCP_HOME/node/.installed"
want_npm="${npm_pkgs[*]}"
if [ ! -f "$stamp_npm" ] || [ "$(cat "$stamp_npm")" != "$want_npm" ]; then
  [ -f "$MCP_HOME/node/package.json" ] || echo '{"name":"vana-mcp-servers","private":true}' >"$MCP_HOME/node/package.json"
  (cd "$MCP_HOME/node" && npm install --no-audit --no-fund --loglevel=error --save-exact "${npm_pkgs[@]}")
  echo "$want_npm" >"$stamp_npm"
fi

# PyPI servers, pinned, one virtualenv each; their programs are linked into bin/.
py=${PYTHON:-python3}
mkdir -p "$MCP_HOME/bin" "$MCP_HOME/py"
for entry in "${pip_pkgs[@]}"; do
  name=${entry%%[=<> ]*}
  venv="$MCP_HOME/py/$name"
  if [ ! -f "$venv/.installed" ] || [ "$(cat "$venv/.installed")" != "$entry" ]; then
    [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
    # shellcheck disable=SC2086
    "$venv/bin/pip" install -q --disable-pip-version-check $entry
    echo "$entry" >"$venv/.installed"
  fi
  for prog in "$venv"/bin/*; do
    b=$(basename "$prog")
    case "$b" in *mcp*) [ "$b" = mcp ] || ln -sf "$prog" "$MCP_HOME/bin/$b" ;; esac
  done
done

echo "installed:"
ls "$MCP_HOME/node/node_modules/.bin" | grep -E 'mcp|inspector' | sed 's/^/  npm  /'
ls "$MCP_HOME/bin" | sed 's/^/  pypi /'
