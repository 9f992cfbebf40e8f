#!/usr/bin/env bash
# The browser benchmark: VANA's navigate + extract_text against @playwright/mcp (npm, pinned by
# crates/vana-tools-browser/benches/reference/package-lock.json) on the same /usr/bin/chromium,
# and the memory of each open browser context. Installs the reference on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
ref=crates/vana-tools-browser/benches/reference
if [ ! -f "$ref/node_modules/@playwright/mcp/cli.js" ]; then
  (cd "$ref" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
exec cargo bench -p vana-tools-browser --bench navigate "$@"
