#!/usr/bin/env bash
# The design tools' benchmark: generate_ui_mockup (spec -> three PNGs) against plain screenshots
# of the same HTML, and render_svg (resvg) against rsvg-convert, ratios from one run.
# Needs Chromium (apt-get install -y chromium) and librsvg2-bin (installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v rsvg-convert >/dev/null; then
  apt-get update -qq && apt-get install -y -qq librsvg2-bin
fi
cargo bench -p vana-tools-browser --bench design "$@"
