#!/usr/bin/env python3
"""The benchmark peer: DuckDB computing the tables of `revcycle report DIR
--period month` (kpis, funnel, cycle, funnel_vs_cycle, misalignment,
alignment, attribution) from the same canonical CSV files, with the SQL of
scripts/bench_duckdb.sql. Python only does the small final arithmetic on tiny
aggregates: the misalignment estimate from one row of counts, the Markov chain
solved from SQL-counted transitions, the Shapley games from SQL-counted sets.

    bench_duckdb.py DATA_DIR OUT_DIR [--threads N] [--temp DIR] [-v]

Needs the `duckdb` package (scripts/bench.sh creates a virtual environment
with it). DuckDB is a benchmark peer, never a dependency of revcycle.
"""
import argparse
import csv
import math
import os
import sys
import time
from itertools import combinations

import duckdb

HERE = os.path.dirname(os.path.abspath(__file__))
Z = 1.959963984540054


def wilson(k, n):
    if not n:
        return None, None
    p = k / n
    d = 1 + Z * Z / n
    center = (p + Z * Z / (2 * n)) / d
    half = Z / d * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return max(0.0, center - half), min(1.0, center + half)


def div(a, b):
    return None if a is None or b is None or b == 0 else a / b


def mul(*xs):
    if any(x is None for x in xs):
        return None
    r = 1.0
    for x in xs:
        r *= x
    return r


def misalignment(con, out):
    cur = con.execute("SELECT * FROM mis_leads, mis_deal_agg")
    row = dict(zip([d[0] for d in cur.description], cur.fetchone()))
    r = row
    won, lost = r["won_deals"], r["lost_deals"]
    bookings, spend = r["new_bookings"], r["marketing_spend"]
    win_rate = div(won, won + lost)
    wr_lo, wr_hi = wilson(won, won + lost)
    ads = div(bookings, won)
    cpm = div(spend, r["mqls_reached"])
    wmwr = div(r["worked_mqls_won"], r["worked_mqls"])
    wm_lo, wm_hi = wilson(r["worked_mqls_won"], r["worked_mqls"])
    swr = div(r["sql_won"], r["sql_reached"])
    sw_lo, sw_hi = wilson(r["sql_won"], r["sql_reached"])
    unworked = r["unworked_mqls"]

    names = ["le_1h", "le_24h", "le_72h", "gt_72h"]
    labels = ["<= 1h", "<= 24h", "<= 72h", "> 72h"]
    buckets = []
    for i, name in enumerate(names, 1):
        n, k = r[f"b{i}_n"], r[f"b{i}_sql"]
        lo, hi = wilson(k, n)
        buckets.append(dict(name=name, label=labels[i - 1], n=n, k=k, q=div(k, n), lo=lo, hi=hi))
    base = next((i for i, b in enumerate(buckets) if b["n"] >= 30), None)
    slow = slow_lo = slow_hi = None
    if base is not None and ads is not None and swr is not None:
        qb = buckets[base]
        slow = slow_lo = slow_hi = 0.0
        for b in buckets[base + 1:]:
            if not b["n"]:
                continue
            slow += b["n"] * max(0.0, qb["q"] - b["q"]) * swr * ads
            slow_lo += b["n"] * max(0.0, qb["lo"] - b["hi"]) * sw_lo * ads
            slow_hi += b["n"] * max(0.0, qb["hi"] - b["lo"]) * sw_hi * ads

    unworked_lost = mul(unworked, wmwr, ads)
    unworked_wasted = mul(unworked, cpm)
    rejected_wasted = mul(r["rejected_mqls"], cpm)
    misfit = mul(win_rate, r["misfit_lost_amount"])
    comps = [unworked_lost, unworked_wasted, slow, rejected_wasted, misfit]
    lows = [mul(unworked, wm_lo, ads), unworked_wasted, slow_lo, rejected_wasted, mul(wr_lo, r["misfit_lost_amount"])]
    highs = [mul(unworked, wm_hi, ads), unworked_wasted, slow_hi, rejected_wasted, mul(wr_hi, r["misfit_lost_amount"])]

    def total(xs):
        xs = [x for x in xs if x is not None]
        return sum(xs) if xs else None

    cost = total(comps)

    def tvd(dim):
        rows = con.execute(
            "SELECT value, sum(mql), sum(won) FROM mis_mix WHERE dim = ? GROUP BY value", [dim]).fetchall()
        tm = sum(x[1] for x in rows)
        tw = sum(x[2] for x in rows)
        if not tm or not tw:
            return None
        return 0.5 * sum(abs(x[1] / tm - x[2] / tw) for x in rows)

    icp = tvd("segment")
    chan = tvd("channel")
    components = [
        div(r["sla_mqls"] - unworked, r["sla_mqls"]),
        div(r["contacted_within_24h"], r["contacted_mqls"]),
        div(r["accepted_mqls"], r["mqls_reached"]),
        None if icp is None else 1 - icp,
        None if chan is None else 1 - chan,
    ]
    present = [c for c in components if c is not None]
    score = 100 * sum(present) / len(present) if present else None

    cols = {
        "worked_mql_win_rate": wmwr, "unworked_mqls": unworked,
        "unworked_mql_lost_revenue": unworked_lost, "unworked_mql_wasted_spend": unworked_wasted,
        "slow_followup_lost_revenue": slow, "rejected_mqls": r["rejected_mqls"],
        "rejected_mql_wasted_spend": rejected_wasted, "misfit_lost_pipeline": misfit,
        "misalignment_cost": cost, "misalignment_cost_low": total(lows),
        "misalignment_cost_high": total(highs), "misalignment_cost_share": div(cost, bookings),
        "alignment_uplift_scenario": bookings * 0.34, "alignment_score": score,
        "followup_component": components[0], "speed_component": components[1],
        "acceptance_component": components[2], "icp_component": components[3],
        "channel_component": components[4],
        "mqls_reached": r["mqls_reached"], "worked_mqls": r["worked_mqls"],
        "worked_mqls_won": r["worked_mqls_won"], "worked_mql_win_rate_low": wm_lo,
        "worked_mql_win_rate_high": wm_hi, "sla_mqls": r["sla_mqls"],
        "contacted_mqls": r["contacted_mqls"], "contacted_within_24h": r["contacted_within_24h"],
        "accepted_mqls": r["accepted_mqls"], "sql_reached": r["sql_reached"],
        "sql_won": r["sql_won"], "sql_win_rate": swr, "sql_win_rate_low": sw_lo,
        "sql_win_rate_high": sw_hi,
        "followup_base_bucket": None if base is None else buckets[base]["label"],
    }
    for b in buckets:
        cols[f"bucket_{b['name']}_n"] = b["n"]
        cols[f"bucket_{b['name']}_sql_reached"] = b["k"]
        cols[f"bucket_{b['name']}_q"] = b["q"]
    cols.update({
        "won_deals": won, "lost_deals": lost, "win_rate": win_rate, "win_rate_low": wr_lo,
        "win_rate_high": wr_hi, "new_bookings": bookings, "avg_deal_size": ads,
        "marketing_spend": spend, "cost_per_mql": cpm,
        "misfit_lost_deals": r["misfit_lost_deals"], "misfit_lost_amount": r["misfit_lost_amount"],
    })
    write_row(os.path.join(out, "misalignment.csv"), cols)
    write_row(os.path.join(out, "alignment.csv"), {k: cols[k] for k in [
        "alignment_score", "followup_component", "speed_component", "acceptance_component",
        "icp_component", "channel_component"]})


def write_row(path, cols):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols.keys())
        w.writerow(["" if v is None else v for v in cols.values()])


def solve(a, b):
    """Gaussian elimination with partial pivoting (a is k x k, small)."""
    k = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(k):
        p = max(range(c, k), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        if m[c][c] == 0:
            continue
        for r in range(c + 1, k):
            f = m[r][c] / m[c][c]
            if f:
                for j in range(c, k + 1):
                    m[r][j] -= f * m[c][j]
    x = [0.0] * k
    for r in range(k - 1, -1, -1):
        s = m[r][k] - sum(m[r][j] * x[j] for j in range(r + 1, k))
        x[r] = s / m[r][r] if m[r][r] else 0.0
    return x


def markov_effects(edges):
    """Removal effect of every channel from the counted transitions."""
    units = sorted({s for s, _, _ in edges} | {t for _, t, _ in edges}
                   - {"(start)", "(conversion)", "(null)"})
    idx = {u: i for i, u in enumerate(units)}
    out = {}
    for s, t, n in edges:
        out[s] = out.get(s, 0) + n
    k = len(units)

    def p_conv(removed):
        q = [[0.0] * k for _ in range(k)]
        b = [0.0] * k
        start = [0.0] * k
        for s, t, n in edges:
            if t == removed or s == removed:
                continue
            p = n / out[s]
            if s == "(start)":
                if t in idx:
                    start[idx[t]] += p
            elif t == "(conversion)":
                b[idx[s]] += p
            elif t in idx:
                q[idx[s]][idx[t]] += p
        a = [[(1.0 if i == j else 0.0) - q[i][j] for j in range(k)] for i in range(k)]
        x = solve(a, b)
        return sum(start[i] * x[i] for i in range(k))

    p = p_conv(None)
    if p == 0:
        return {u: None for u in units}, p
    return {u: 1 - p_conv(u) / p for u in units}, p


def shapley_shares(s, v):
    k = len(s)
    fact = math.factorial
    phi = {}
    for i in s:
        rest = [u for u in s if u != i]
        tot = 0.0
        for size in range(len(rest) + 1):
            wgt = fact(size) * fact(k - size - 1) / fact(k)
            for t in combinations(rest, size):
                tot += wgt * (v.get(frozenset(t + (i,)), 0.0) - v.get(frozenset(t), 0.0))
        phi[i] = max(0.0, tot)
    z = sum(phi.values())
    return {u: (phi[u] / z if z else 1 / k) for u in s}


def attribution_models(con):
    edges = con.execute("SELECT s, t, n FROM markov_edges WHERE n > 0").fetchall()
    effects, _ = markov_effects(edges)
    bits = con.execute("SELECT channel, bit FROM unit_bits ORDER BY bit").fetchall()
    if len(bits) > 63:
        sys.exit("bench_duckdb.py: more than 63 channels (sets are 64-bit masks)")

    def units(mask):
        return [u for u, b in bits if mask & b]

    games = {}
    for mask, paths, conversions in con.execute("SELECT uset, paths, conversions FROM shapley_games").fetchall():
        if paths:
            games[frozenset(units(mask))] = conversions / paths
    credit = {}
    cache = {}
    for period, mask, n, value in con.execute("SELECT period, uset, conversions, value FROM conv_sets").fetchall():
        if mask not in cache:  # each distinct set is solved once
            s = units(mask)
            e = {u: effects.get(u) or 0.0 for u in s}
            z = sum(e.values())
            cache[mask] = {"markov": {u: (e[u] / z if z else 1 / len(s)) for u in s},
                           "shapley": shapley_shares(s, games) if len(s) <= 12 else None}
        shares = cache[mask]
        for model, sh in shares.items():
            if sh is None:
                sys.exit("bench_duckdb.py: a path with more than 12 channels (Shapley's linear fallback is not implemented)")
            for u, w in sh.items():
                c = credit.setdefault((period, u, model), [0.0, 0.0])
                c[0] += n * w
                c[1] += float(value) * w
    con.execute("CREATE TEMP TABLE py_credit (period DATE, channel VARCHAR, model VARCHAR, "
                "conversions DOUBLE, value DOUBLE)")
    con.executemany("INSERT INTO py_credit VALUES (?, ?, ?, ?, ?)",
                    [(p, u, m, c[0], c[1]) for (p, u, m), c in credit.items()])


def statements(sql):
    buf = []
    for line in sql.splitlines():
        buf.append(line)
        if line.rstrip().endswith(";"):
            yield "\n".join(buf)
            buf = []
    if "".join(buf).strip():
        yield "\n".join(buf)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--temp", help="DuckDB's spill folder")
    ap.add_argument("-v", "--verbose", action="store_true", help="time every statement")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    sql = open(os.path.join(HERE, "bench_duckdb.sql")).read()
    sql = sql.replace("${DIR}", os.path.abspath(a.data).replace("'", "''"))
    sql = sql.replace("${OUT}", os.path.abspath(a.out).replace("'", "''"))
    before, after = sql.split("\n-- @python\n", 1)
    con = duckdb.connect()
    if a.threads:
        con.execute(f"SET threads = {a.threads}")
    if a.temp:
        con.execute(f"SET temp_directory = '{a.temp}'")

    def run(text):
        for st in statements(text):
            body = "\n".join(l for l in st.splitlines() if not l.lstrip().startswith("--")).strip()
            if not body:
                continue
            t = time.time()
            con.execute(st)
            if a.verbose:
                print(f"{time.time() - t:7.2f} s  {body.splitlines()[0][:90]}", file=sys.stderr)

    run(before)
    t = time.time()
    misalignment(con, a.out)
    attribution_models(con)
    if a.verbose:
        print(f"{time.time() - t:7.2f} s  python: misalignment, markov, shapley", file=sys.stderr)
    run(after)


if __name__ == "__main__":
    main()
