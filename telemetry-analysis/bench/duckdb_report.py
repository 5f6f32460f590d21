"""DAU and the ordering funnel of a JSONL event file in DuckDB, as `telemetry report`
computes them, to compare speed and memory (see BENCHMARKS.md).

usage: python duckdb_report.py EVENTS.jsonl [MEMORY_LIMIT]

The funnel has the report's semantics: from each `search.performed` of a user, each
later step is the user's earliest matching event at or after the previous step and
within one day of the start; a user reaches the deepest step of their best start.
"""

import sys
import time

import duckdb

STEPS = [
    "search.performed",
    "restaurant.viewed",
    "cart.item_added",
    "checkout.started",
    "payment.completed",
]
WINDOW_MS = 86_400_000

LOAD = """
CREATE TABLE e AS
SELECT context.user_id AS u,
       epoch_ms(CAST(timestamp AS TIMESTAMPTZ)) AS t,
       name
FROM read_json(?, format = 'newline_delimited',
               columns = {timestamp: 'VARCHAR', name: 'VARCHAR',
                          context: 'STRUCT(user_id VARCHAR)'})
"""

DAU = """
SELECT CAST(make_timestamp(t * 1000) AS DATE) AS day, count(DISTINCT u) AS dau
FROM e GROUP BY day ORDER BY day
"""


def funnel_sql():
    """Step k joins the earliest step-k event at or after step k-1, within the window."""
    ctes = [
        f"s1 AS (SELECT u, t AS t0, t AS t1 FROM e WHERE name = '{STEPS[0]}')"
    ]
    for k in range(2, len(STEPS) + 1):
        prev = ", ".join(f"p.t{i}" for i in range(1, k))
        ctes.append(
            f"s{k} AS (SELECT p.u, p.t0, {prev}, min(x.t) AS t{k} FROM s{k-1} p "
            f"LEFT JOIN e x ON x.u = p.u AND x.name = '{STEPS[k-1]}' "
            f"AND x.t >= p.t{k-1} AND x.t <= p.t0 + {WINDOW_MS} "
            f"GROUP BY p.u, p.t0, {prev})"
        )
    depth = " ".join(
        f"WHEN t{k} IS NOT NULL THEN {k}" for k in range(len(STEPS), 0, -1)
    )
    counts = ", ".join(
        f"count(*) FILTER (WHERE d >= {k}) AS step{k}"
        for k in range(1, len(STEPS) + 1)
    )
    return (
        "WITH " + ", ".join(ctes)
        + f", users AS (SELECT u, max(CASE {depth} END) AS d FROM s{len(STEPS)} GROUP BY u) "
        + f"SELECT {counts} FROM users"
    )


def main():
    path = sys.argv[1]
    con = duckdb.connect()
    if len(sys.argv) > 2:
        con.execute(f"SET memory_limit = '{sys.argv[2]}'")
    con.execute("SET TimeZone = 'UTC'")
    start = time.perf_counter()
    con.execute(LOAD, [path])
    loaded = time.perf_counter()
    dau = con.execute(DAU).fetchall()
    dau_done = time.perf_counter()
    steps = con.execute(funnel_sql()).fetchone()
    done = time.perf_counter()
    rows = con.execute("SELECT count(*) FROM e").fetchone()[0]
    print(f"records {rows}")
    print(f"days {len(dau)} first {dau[0][0]} dau {dau[0][1]} last {dau[-1][0]} dau {dau[-1][1]}")
    print(f"max dau {max(d for _, d in dau)}")
    print("funnel " + " ".join(str(s) for s in steps))
    print(
        f"seconds: load {loaded - start:.2f} dau {dau_done - loaded:.2f} "
        f"funnel {done - dau_done:.2f} total {done - start:.2f}"
    )
    print(f"records/s {rows / (done - start):,.0f}")


if __name__ == "__main__":
    main()
