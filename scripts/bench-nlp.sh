#!/usr/bin/env bash
# The NLP benchmarks (crates/vana-tools-nlp/tests/bench.rs), in release mode: sentiment over
# 100,000 sentences against Python vaderSentiment, and extract_entities per document through
# VANA's spaCy worker against spaCy in-process. Each prints a ratio or difference measured
# against its baseline in the same run (lines starting with BENCH).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup-nlp.sh"
cd "$root"
cargo test --release -p vana-tools-nlp --test bench -- --ignored --nocapture --test-threads=1 2>&1 | grep -E "BENCH|test result|panicked|error"
