#!/usr/bin/env python3
"""Cross-check of the demo's truth against the attribution models.

An independent, standard-library-only reading of ../shared/spec/attribution.md
(`--credit won --by channel`, lookback 365 days, half-life 7 days, one period)
run on a folder written by `revcycle demo --out DIR`. It prints each model's
channel shares of the credited conversions beside `truth.csv`'s shares and
the mean absolute error of the shares over the channels (the measure
`revcycle attribution --truth` reports). docs/demo.md quotes its output.

    python3 scripts/demo_truth_vs_models.py DIR
"""

import csv
import itertools
import math
import sys
from collections import Counter, defaultdict
from datetime import datetime, timedelta

SOCIAL = {"facebook", "instagram", "linkedin", "twitter", "x", "tiktok", "reddit"}
PAID = {"cpc", "ppc", "paid", "paidsearch", "sem"}


def utm_channel(source, medium):
    s, m = source.strip().lower(), medium.strip().lower()
    if not s and not m:
        return "(none)"
    if m in PAID:
        return "Paid Social" if s in SOCIAL else "Paid Search"
    rules = {"social": "Organic Social", "social-network": "Organic Social", "sm": "Organic Social",
             "email": "Email", "referral": "Referral", "display": "Display", "banner": "Display",
             "cpm": "Display", "affiliate": "Partner", "organic": "Organic"}
    if m in rules:
        return rules[m]
    if s == "(direct)" or m in ("(none)", "none"):
        return "Direct"
    return "(none)"


def ts(s):
    return datetime.strptime(s, "%Y-%m-%d %H:%M:%S")


def main(folder):
    rows = lambda name: list(csv.DictReader(open(f"{folder}/{name}", newline="")))
    leads = {l["lead_id"]: l for l in rows("leads.csv")}
    opps = rows("opportunities.csv")
    camp_channel = {c["campaign_id"]: c["channel"] for c in rows("campaigns.csv")}
    truth = {r["channel"]: float(r["share"] or 0) for r in rows("truth.csv")}

    times = [ts(l[c]) for l in leads.values() for c in
             ("created_at", "mql_at", "sal_at", "sql_at", "first_contact_at", "disqualified_at") if l[c]]
    times += [ts(o["created_at"]) for o in opps]
    times += [ts(o["close_date"] + " 00:00:00") for o in opps if o["close_date"]]
    as_of = max(times)
    lookback = timedelta(days=365)

    touches = defaultdict(list)
    for i, t in enumerate(rows("touches.csv")):
        ch = t["channel"].strip() or camp_channel.get(t["campaign_id"]) or utm_channel(t["source"], t["medium"])
        at = ts(t["touched_at"])
        if at <= as_of:
            touches[t["lead_id"]].append((at, ch, t["campaign_id"], t["touch_type"], i))
    for p in touches.values():
        p.sort()

    def lead_channel(l):
        return l["channel"] or camp_channel.get(l["campaign_id"]) or "(none)"

    def path(lead_id, instant):
        p = [t for t in touches[lead_id] if instant - lookback < t[0] <= instant]
        if not p:
            l = leads[lead_id]
            p = [(ts(l["created_at"]), lead_channel(l), l["campaign_id"], "", -1)]
        return p

    # Conversions: won new-business deals of a loaded lead, instant = close date.
    convs = []
    for o in opps:
        typ = o["type"]
        if o["status"] == "won" and o["lead_id"] in leads and o["close_date"] and typ in ("", "new_business"):
            instant = ts(o["close_date"] + " 00:00:00")
            convs.append((o["lead_id"], instant, ts(o["created_at"]), path(o["lead_id"], instant)))

    credit = defaultdict(Counter)
    for lead_id, instant, opp_created, p in convs:
        n = len(p)
        chans = [t[1] for t in p]
        credit["first_touch"][chans[0]] += 1
        credit["last_touch"][chans[-1]] += 1
        for c in chans:
            credit["linear"][c] += 1 / n
        w = [2 ** (-(instant - t[0]).total_seconds() / 86400 / 7) for t in p]
        for c, x in zip(chans, w):
            credit["time_decay"][c] += x / sum(w)
        pos = [1.0] if n == 1 else [0.5, 0.5] if n == 2 else [0.4] + [0.2 / (n - 2)] * (n - 2) + [0.4]
        for c, x in zip(chans, pos):
            credit["position"][c] += x
        created = ts(leads[lead_id]["created_at"])
        lead_key = max([i for i, t in enumerate(p) if t[0] <= created], default=0)
        opp_key = max([i for i, t in enumerate(p) if t[0] <= opp_created], default=n - 1)
        keys = Counter([0, lead_key, opp_key])
        others = [i for i in range(n) if i not in keys] or list(range(n))
        ws = [0.3 * keys[i] + (0.1 / len(others) if i in others else 0) for i in range(n)]
        for c, x in zip(chans, ws):
            credit["w_shaped"][c] += x

    # One path per lead for Markov and Shapley: first conversion, else the
    # touches in (as_of - lookback, as_of].
    first_conv = {}
    for lead_id, instant, _, p in sorted(convs, key=lambda c: c[1]):
        first_conv.setdefault(lead_id, p)
    lead_paths = []
    for lead_id in leads:
        if lead_id in first_conv:
            lead_paths.append(([t[1] for t in first_conv[lead_id]], True))
        else:
            lead_paths.append(([t[1] for t in touches[lead_id] if as_of - lookback < t[0] <= as_of], False))

    # Markov: exact absorption probability by Gaussian elimination.
    trans = defaultdict(Counter)
    for chans, conv in lead_paths:
        states = ["start"] + [c for i, c in enumerate(chans) if i == 0 or chans[i - 1] != c]
        states.append("conversion" if conv else "null")
        for a, b in zip(states, states[1:]):
            trans[a][b] += 1
    units = sorted({c for chans, _ in lead_paths for c in chans})

    def p_conv(removed=None):
        nodes = ["start"] + [u for u in units if u != removed]
        idx = {s: i for i, s in enumerate(nodes)}
        k = len(nodes)
        a = [[0.0] * (k + 1) for _ in range(k)]
        for s in nodes:
            i = idx[s]
            a[i][i] = 1.0
            out = sum(trans[s].values())
            for t, cnt in trans[s].items():
                if t == "conversion":
                    a[i][k] += cnt / out
                elif t in idx:
                    a[i][idx[t]] -= cnt / out
        for col in range(k):
            piv = max(range(col, k), key=lambda r: abs(a[r][col]))
            a[col], a[piv] = a[piv], a[col]
            if abs(a[col][col]) < 1e-15:
                continue
            for r in range(k):
                if r != col and a[r][col]:
                    f = a[r][col] / a[col][col]
                    a[r] = [x - f * y for x, y in zip(a[r], a[col])]
        return a[0][k] / a[0][0]

    base = p_conv()
    removal = {u: 1 - p_conv(u) / base for u in units}
    shap_v = defaultdict(lambda: [0, 0])
    for chans, conv in lead_paths:
        key = frozenset(chans)
        shap_v[key][0] += conv
        shap_v[key][1] += 1

    def v(t):
        c, n = shap_v.get(frozenset(t), (0, 0))
        return c / n if n and t else 0.0

    shapley_cache = {}
    for lead_id, _, _, p in convs:
        chans = [t[1] for t in p]
        s = sorted(set(chans))
        eff = [removal[c] for c in s]
        for c, e in zip(s, eff):
            credit["markov"][c] += e / sum(eff) if sum(eff) > 0 else 1 / len(s)
        if len(s) > 12:
            for c in chans:
                credit["shapley"][c] += 1 / len(chans)
            continue
        key = tuple(s)
        if key not in shapley_cache:
            m = len(s)
            phi = []
            for i, c in enumerate(s):
                rest = [x for x in s if x != c]
                total = 0.0
                for r in range(m):
                    for sub in itertools.combinations(rest, r):
                        wt = math.factorial(r) * math.factorial(m - r - 1) / math.factorial(m)
                        total += wt * (v(sub + (c,)) - v(sub))
                phi.append(max(total, 0.0))
            tot = sum(phi)
            shapley_cache[key] = [x / tot if tot > 0 else 1 / m for x in phi]
        for c, x in zip(s, shapley_cache[key]):
            credit["shapley"][c] += x

    channels = sorted(set(truth) | {c for m in credit.values() for c in m})
    models = ["first_touch", "last_touch", "linear", "time_decay", "position", "w_shaped", "markov", "shapley"]
    print(f"{len(convs)} conversions, as_of {as_of}")
    print(f"{'channel':15}{'truth':>8}" + "".join(f"{m:>12}" for m in models))
    share = {m: {c: credit[m][c] / len(convs) for c in channels} for m in models}
    for c in channels:
        print(f"{c:15}{truth.get(c, 0):8.3f}" + "".join(f"{share[m][c]:12.3f}" for m in models))
    print(f"{'MAE':15}{'':8}" + "".join(
        f"{sum(abs(share[m][c] - truth.get(c, 0)) for c in channels) / len(channels):12.4f}" for m in models))
    print("markov removal effects: " + ", ".join(f"{u} {removal[u]:.3f}" for u in units))


if __name__ == "__main__":
    main(sys.argv[1])
