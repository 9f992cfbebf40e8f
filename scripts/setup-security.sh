#!/usr/bin/env bash
# Set-up for the security tools' tests (crates/vana-tools-ops, security half):
# - Debian `clamav` (clamscan, sigtool; never freshclam: the tests make their own signatures)
#   and `yara` (the YARA CLI);
# - a venv at .cache/security-venv (override with $VANA_SECURITY_VENV) with semgrep and
#   detect-secrets, pinned: semgrep is what `scan_code_semgrep` runs (VANA itself provisions the
#   same pin under its data dir on first use; the tests point it at this venv), detect-secrets is
#   the reference `scan_secrets` is measured against (recall test, benchmark).
# Idempotent and quiet; a second run only checks.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${VANA_SECURITY_VENV:-$root/.cache/security-venv}"
SEMGREP=1.187.0
DETECT_SECRETS=1.5.0
if ! command -v clamscan >/dev/null || ! command -v sigtool >/dev/null || ! command -v yara >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends clamav yara >/dev/null
  # The package may start a freshclam service; it would need the internet. Stop it if it runs.
  systemctl disable --now clamav-freshclam >/dev/null 2>&1 || true
fi
PY=/usr/bin/python3
[ -x "$PY" ] || PY="$(command -v python3)"
have() {
  "$venv/bin/python" - "$SEMGREP" "$DETECT_SECRETS" <<'PY' >/dev/null 2>&1
import sys, importlib.metadata as m
assert m.version("semgrep") == sys.argv[1]
assert m.version("detect-secrets") == sys.argv[2]
PY
  [ -x "$venv/bin/semgrep" ] && [ -x "$venv/bin/detect-secrets" ]
}
if ! have; then
  mkdir -p "$(dirname "$venv")"
  if [ ! -x "$venv/bin/python" ]; then
    if ! "$PY" -m venv "$venv" 2>/dev/null; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      "$PY" -m venv "$venv"
    fi
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "semgrep==$SEMGREP" "detect-secrets==$DETECT_SECRETS"
  have || { echo "setup-security: semgrep/detect-secrets did not install in $venv" >&2; exit 1; }
fi
