#!/usr/bin/env bash
# Installs the third-party MCP servers of VANA's catalog, pinned, into one project-local folder
# (no global installs), in the layout `vana mcp install` uses:
#   $VANA_MCP_HOME/node/node_modules/.bin   npm servers (and the MCP Inspector)
#   $VANA_MCP_HOME/bin                      PyPI servers, each in its own virtualenv under
#                                           py/<package> (their pins of the `mcp` SDK differ);
#                                           py/mcp holds the Python `mcp` SDK client for the benchmark
# VANA looks for server commands in node_modules/.bin and bin before $PATH.
#
# The packages and their versions come from config/mcp_servers.yaml (each server's
# `package: npm|pypi SPEC...` line), the one place they are pinned.
#
#   scripts/setup-mcp.sh          the servers that need no key, and those of local services
#                                 (postgresql, redis): what the tests start
#   scripts/setup-mcp.sh --all    every catalog server with a package (brave, sentry, ...)
#   scripts/setup-mcp.sh --print  prints the plan (name registry specs...) and installs nothing
#                                 (--print-all: the plan of --all)
#
# VANA_MCP_HOME defaults to <VANA data dir>/mcp (~/.local/share/vana/mcp); the tests and CI use
# <repo>/.cache/mcp. Re-running is cheap: pinned packages already present are skipped.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
default_home="${VANA_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/vana}/mcp"
MCP_HOME="${VANA_MCP_HOME:-$default_home}"
mode=default
print=0
case "${1:-}" in
  --all) mode=all ;;
  --print) print=1 ;;
  --print-all) mode=all print=1 ;;
esac

# Servers whose only setting names a service on this machine (the tests start them).
local_services=" postgresql redis "

# name|enabled|required_env|registry|specs for every catalog server with an npm or PyPI package.
plan() {
  awk '
    function flush() {
      if (name != "" && reg != "") print name "|" enabled "|" req "|" reg "|" specs
      name = ""; enabled = "true"; req = ""; reg = ""; specs = ""
    }
    /^  [a-z0-9_]+:[ \t]*$/ { flush(); name = $1; sub(/:$/, "", name); next }
    /^    enabled:[ \t]*false/ { enabled = "false"; next }
    /^    required_env:/ { req = $0; sub(/^.*\[/, "", req); sub(/\].*$/, "", req); gsub(/[ ,]+/, " ", req); next }
    /^    package:[ \t]*(npm|pypi) / {
      reg = $2
      for (i = 3; i <= NF; i++) {
        if (reg == "npm" && $i !~ /^@?[A-Za-z0-9._\/-]+@[0-9][A-Za-z0-9.+-]*$/) break
        if (reg == "pypi" && $i !~ /^[A-Za-z0-9._-]+==[0-9][A-Za-z0-9.+-]*$/) break
        specs = specs (specs == "" ? "" : " ") $i
      }
      if (specs == "") reg = ""
      next
    }
    END { flush() }
  ' "$repo/config/mcp_servers.yaml"
}

npm_pkgs=()
pip_pkgs=()
while IFS='|' read -r name enabled req reg specs; do
  if [ "$mode" != all ]; then
    [ "$enabled" = true ] || continue
    req=$(echo "$req" | xargs)
    [ -z "$req" ] || [[ "$local_services" == *" $name "* ]] || continue
  fi
  [ "$print" = 1 ] && { echo "$name $reg $specs"; continue; }
  if [ "$reg" = npm ]; then
    # shellcheck disable=SC2206
    npm_pkgs+=($specs)
  else
    pip_pkgs+=("$specs")
  fi
done < <(plan)
[ "$print" = 1 ] && exit 0

# Not catalog servers: the MCP Inspector and the Python SDK's client, for the benchmark.
npm_pkgs+=("@modelcontextprotocol/inspector@2.12.0")
pip_pkgs+=("mcp==2.3.0")

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

# npm servers, pinned, in one local package; only the missing ones are installed.
[ -f "$MCP_HOME/node/package.json" ] || echo '{"name":"vana-mcp-servers","private":true}' >"$MCP_HOME/node/package.json"
missing=()
for spec in "${npm_pkgs[@]}"; do
  pkg=${spec%@*} ver=${spec##*@}
  manifest="$MCP_HOME/node/node_modules/$pkg/package.json"
  grep -q "\"version\": *\"$ver\"" "$manifest" 2>/dev/null || missing+=("$spec")
done
if [ "${#missing[@]}" -gt 0 ]; then
  (cd "$MCP_HOME/node" && npm install --no-audit --no-fund --loglevel=error --save-exact "${missing[@]}")
fi

# PyPI servers, pinned, one virtualenv each (named for the first package); their programs are
# linked into bin/.
py=${PYTHON:-python3}
mkdir -p "$MCP_HOME/bin" "$MCP_HOME/py"
for entry in "${pip_pkgs[@]}"; do
  name=${entry%%[=<> ]*}
  venv="$MCP_HOME/py/$name"
  if [ ! -f "$venv/.installed" ] || [ "$(cat "$venv/.installed")" != "$entry" ]; then
    [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
    # shellcheck disable=SC2086
    if ! "$venv/bin/pip" install -q --disable-pip-version-check $entry; then
      [ "$mode" = all ] || exit 1
      echo "warning: $entry did not install (see above); the other servers are installed" >&2
      continue
    fi
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
