#!/bin/sh
# `telemetry report` against DuckDB on the same generated file, each run twice, with
# wall time and peak memory from /usr/bin/time -v. See BENCHMARKS.md ("Reports").
#
#   telemetry-analysis/bench/run.sh [EVENTS] [USERS] [DAYS]
#
# Builds the release binaries, writes target/bench/events.jsonl once (deterministic),
# installs DuckDB from PyPI into target/bench-venv once.
set -eu
cd "$(dirname "$0")/../.."
T=${CARGO_TARGET_DIR:-target}
EVENTS=${1:-10000000}
USERS=${2:-100000}
DAYS=${3:-90}
FILE=$T/bench/events-$EVENTS.jsonl
FUNNEL=search.performed,restaurant.viewed,cart.item_added,checkout.started,payment.completed
DUCKDB_MEMORY=${DUCKDB_MEMORY:-2GB}

cargo build --release -p telemetry-cli
cargo build --release -p telemetry-analysis --example generate
if [ ! -f "$FILE" ]; then
    "$T/release/examples/generate" --events "$EVENTS" --users "$USERS" --days "$DAYS" -o "$FILE"
fi
if [ ! -x "$T/bench-venv/bin/python" ]; then
    python3 -m venv "$T/bench-venv"
    "$T/bench-venv/bin/pip" install --quiet duckdb
fi
echo "file: $FILE ($(du -h "$FILE" | cut -f1)); load: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in 1 2; do
    /usr/bin/time -v "$T/release/telemetry" report "$FILE" --funnel "$FUNNEL" --window 1d \
        >"$T/bench/report.txt" 2>"$T/bench/report-time.txt"
    echo "telemetry report, run $run: $(grep -E 'Elapsed|Maximum resident|User time|System time' "$T/bench/report-time.txt" | sed 's/^\s*//' | tr '\n' ' ')"
    /usr/bin/time -v "$T/bench-venv/bin/python" telemetry-analysis/bench/duckdb_report.py "$FILE" "$DUCKDB_MEMORY" \
        >"$T/bench/duckdb.txt" 2>"$T/bench/duckdb-time.txt" || echo "duckdb failed: $(tail -n 1 "$T/bench/duckdb-time.txt")"
    echo "duckdb (memory_limit $DUCKDB_MEMORY), run $run: $(grep -E 'Elapsed|Maximum resident|User time|System time' "$T/bench/duckdb-time.txt" | sed 's/^\s*//' | tr '\n' ' ')"
    echo "  load: $(cut -d' ' -f1-3 /proc/loadavg)"
done
echo "--- telemetry report (funnel)"
grep -A6 '^Funnel `adhoc_1`' "$T/bench/report.txt"
echo "--- duckdb"
cat "$T/bench/duckdb.txt"
