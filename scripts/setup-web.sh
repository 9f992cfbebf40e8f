#!/usr/bin/env bash
# Installs what the web UI's browser tests need: Debian's Chromium (never a downloaded browser)
# and the Node packages of tests-browser/ (playwright-core only, pinned by package-lock.json).
# Idempotent and quiet; fast when everything is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi

if ! command -v node >/dev/null 2>&1; then
  echo "setup-web: Node.js 20+ is required (node not found on PATH)" >&2
  exit 1
fi

# npm ci only when node_modules was not installed from this exact lock file.
lock=tests-browser/package-lock.json
stamp=tests-browser/node_modules/.vana-lock.sha256
want=$(sha256sum "$lock" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  (cd tests-browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" > "$stamp"
fi

echo "setup-web: $(/usr/bin/chromium --version 2>/dev/null | head -1), playwright-core $(node -p "require('./tests-browser/node_modules/playwright-core/package.json').version")"
