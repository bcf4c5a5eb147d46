#!/usr/bin/env python3
"""Sanity check of the benchmark peer: compare DuckDB's tables
(scripts/bench_duckdb.py OUT) with revcycle's report CSVs, cell by cell.

    bench_compare.py REPORT_DIR DUCKDB_OUT [--tol 1e-9]

For every table and column present in both: how many cells agree exactly (the
same number or text), how many only within a relative tolerance (floating
point: the order of additions, a quotient rounded to the millionth in
revcycle's output: within the relative tolerance, or within half a millionth,
the precision revcycle prints money with), and how many disagree (listed, first three). Exit 1 when
any cell disagrees. Standard library only.
"""
import argparse
import csv
import os
import sys

TABLES = {
    "kpis.csv": ["period"],
    "funnel.csv": ["cohort", "stage"],
    "cycle.csv": ["period"],
    "funnel_vs_cycle.csv": ["period", "view"],
    "misalignment.csv": [],
    "alignment.csv": [],
    "attribution.csv": ["period", "channel", "model"],
}


def read(path, key):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {tuple(r[k] for k in key): r for r in rows}


def num(s):
    try:
        return float(s)
    except ValueError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report")
    ap.add_argument("duckdb")
    ap.add_argument("--tol", type=float, default=1e-9, help="relative tolerance (default 1e-9)")
    ap.add_argument("--all", action="store_true", help="one line per column, not only per table")
    a = ap.parse_args()
    bad = 0
    print(f"| table | rows (revcycle / DuckDB) | cells | exact | approx. | differ | max rel. diff |")
    print("|---|---|---|---|---|---|---|")
    for table, key in TABLES.items():
        rp, dp = os.path.join(a.report, table), os.path.join(a.duckdb, table)
        if not (os.path.exists(rp) and os.path.exists(dp)):
            print(f"| {table} | missing in {'revcycle' if not os.path.exists(rp) else 'DuckDB'} | | | | | |")
            bad += 1
            continue
        r, d = read(rp, key), read(dp, key)
        cols = [c for c in next(iter(r.values())).keys() if c not in key] if r else []
        dcols = set(next(iter(d.values())).keys()) if d else set()
        missing_cols = [c for c in cols if c not in dcols]
        cols = [c for c in cols if c in dcols]
        per_col = {}
        worst = 0.0
        diffs = []
        for k in sorted(set(r) | set(d)):
            if k not in r or k not in d:
                diffs.append(f"row {k} only in {'revcycle' if k in r else 'DuckDB'}")
                continue
            for c in cols:
                x, y = r[k][c], d[k][c]
                st = per_col.setdefault(c, [0, 0, 0, 0.0])
                nx, ny = num(x), num(y)
                if x == y or (nx is not None and ny is not None and nx == ny):
                    st[0] += 1
                elif nx is not None and ny is not None:
                    rel = abs(nx - ny) / max(abs(nx), abs(ny))
                    st[3] = max(st[3], rel)
                    worst = max(worst, rel)
                    if rel <= a.tol or abs(nx - ny) <= 5.000001e-7:
                        st[1] += 1
                    else:
                        st[2] += 1
                        diffs.append(f"{k} {c}: revcycle {x}, DuckDB {y} (rel. {rel:.2e})")
                else:
                    st[2] += 1
                    diffs.append(f"{k} {c}: revcycle {x!r}, DuckDB {y!r}")
        ex = sum(s[0] for s in per_col.values())
        ap_ = sum(s[1] for s in per_col.values())
        df = sum(s[2] for s in per_col.values())
        print(f"| {table} | {len(r)} / {len(d)} | {ex + ap_ + df} | {ex} | {ap_} | {df} | {worst:.1e} |")
        if a.all:
            for c, s in per_col.items():
                print(f"|   {c} | | {sum(s[:3])} | {s[0]} | {s[1]} | {s[2]} | {s[3]:.1e} |")
        if missing_cols:
            print(f"|   (not computed by DuckDB: {', '.join(missing_cols)}) | | | | | | |")
        for line in diffs[:3]:
            print(f"|   differs: {line} | | | | | | |")
        if len(diffs) > 3:
            print(f"|   ... and {len(diffs) - 3} more | | | | | | |")
        bad += len(diffs)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
