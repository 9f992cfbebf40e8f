#!/usr/bin/env bash
# The transform_data benchmark (crates/vana-tools-integration/benches/transform.rs): jq filters
# run by transform_data (jaq, reading and writing workspace files) against Debian's jq CLI on the
# same 200k generated records, same run, outputs checked equal; prints lines starting with BENCH.
# BENCH_RECORDS and BENCH_ROUNDS change the run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup-integration.sh"
cd "$root"
cargo bench -p vana-tools-integration --bench transform 2>&1 | grep -E "BENCH|panicked|error"
