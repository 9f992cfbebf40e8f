#!/usr/bin/env bash
# The security benchmark: scan_secrets vs detect-secrets over a generated tree (50 MB unless
# VANA_BENCH_MB says otherwise), and scan_code_semgrep vs semgrep called directly; each ratio
# is measured in the same run. Needs scripts/setup-security.sh first.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup-security.sh"
cd "$root"
exec cargo bench -p vana-tools-ops --bench security "$@"
