#!/usr/bin/env bash
# The extraction benchmark (crates/vana-tools-web/benches/extract.rs): fetch_url's Markdown
# extraction against trafilatura (PyPI, pinned by crates/vana-tools-web/benches/reference/
# requirements.txt) over 38 python3-doc pages, both on 2 cores, measured in the same run: pages
# per second and their ratio, and the main text's token F1 against trafilatura's (lines starting
# with BENCH). Installs python3-doc and the reference (into .cache/research-venv) on first use.
# BENCH_CORES and BENCH_ROUNDS change the run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup-research.sh"
cd "$root"
venv=.cache/research-venv
req=crates/vana-tools-web/benches/reference/requirements.txt
if ! cmp -s "$req" "$venv/.installed" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
  cp "$req" "$venv/.installed"
fi
export TRAFILATURA_PYTHON="$root/$venv/bin/python"
cargo bench -p vana-tools-web --bench extract 2>&1 | grep -E "BENCH|panicked|error"
