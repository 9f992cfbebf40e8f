#!/usr/bin/env bash
# The integration benchmarks (crates/vana-tools-integration/benches), each against its baseline
# in the same run, lines starting with BENCH:
# - transform: jq filters run by transform_data (jaq, workspace files) against Debian's jq CLI on
#   200k generated records, outputs checked equal (BENCH_RECORDS, BENCH_ROUNDS);
# - sync: sync_data_between_systems, 1M generated CSV rows into PostgreSQL with upsert, against
#   pandas DataFrame.to_sql(method="multi") and against psql \copy (BENCH_ROWS). Needs PostgreSQL
#   on 127.0.0.1:5432 (scripts/services.sh); installs the pinned pandas reference into
#   .cache/integration-bench-venv on first use.
# BENCH_ONLY=transform|sync runs one of them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup-integration.sh"
cd "$root"
venv=.cache/integration-bench-venv
if ! "$venv/bin/python" -c "import pandas, sqlalchemy, psycopg2" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "pandas==2.3.3" "SQLAlchemy==2.0.44" "psycopg2-binary==2.9.11"
fi
export BENCH_PYTHON="$root/$venv/bin/python"
only="${BENCH_ONLY:-}"
if [ -z "$only" ] || [ "$only" = transform ]; then
  cargo bench -p vana-tools-integration --bench transform 2>&1 | grep -E "BENCH|panicked|error"
fi
if [ -z "$only" ] || [ "$only" = sync ]; then
  "$root/scripts/services.sh"
  cargo bench -p vana-tools-integration --bench sync 2>&1 | grep -E "BENCH|panicked|error"
fi
