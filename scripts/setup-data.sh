#!/usr/bin/env bash
# Set-up for the Data Science / Analytics / Database tools' tests (crates/vana-tools-data).
#
# - apt: fonts-dejavu-core (DejaVuSans.ttf, used by chart text in PNG/SVG charts).
# - PyPI: pandas, numpy, scikit-learn in a venv at /work/main/.cache/data-venv (override with
#   $VANA_DATA_VENV). Tests use its python for pandas' reference numbers and scikit-learn's
#   bundled iris/wine CSVs; they look for it at the same path.
# Idempotent and quiet; a second run does nothing.
set -euo pipefail

if [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends fonts-dejavu-core >/dev/null
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${VANA_DATA_VENV:-$root/.cache/data-venv}"
if ! "$venv/bin/python" -c "import pandas, numpy, sklearn" >/dev/null 2>&1; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "pandas==2.2.3" "numpy==2.1.3" "scikit-learn==1.5.2"
fi
