#!/usr/bin/env bash
# Benchmark revcycle on demo data against a peer and a floor, in one go:
# wall time and peak RSS (GNU time) of
#   - revcycle `report` (all tables, month periods, into a temporary folder),
#   - each of `kpis`, `funnel`, `cycle`, `misalignment`, `attribution`
#     (`--format csv` to /dev/null),
#   - DuckDB computing the report's tables from the same CSV files
#     (scripts/bench_duckdb.py + scripts/bench_duckdb.sql),
#   - polars reading every CSV file of the set (scripts/bench_floor.py): the floor,
# then prints a Markdown table with the ratios revcycle/DuckDB, revcycle/floor
# and each size over the previous one (10M/1M), and checks DuckDB's tables
# against revcycle's report (scripts/bench_compare.py).
#
#   scripts/bench.sh [SIZES...]   lead counts; default: 1000000 10000000 (50000000 works too)
#   BENCH_DIR=/tmp/revcycle-bench data sets ($BENCH_DIR/N, written once by `revcycle demo`,
#                                 an existing set with leads.csv and touches.csv is reused,
#                                 never rewritten)
#   BENCH_VENV=$BENCH_DIR/.bench-venv  the Python environment of the peer and the floor
#   RUNS=1                        repeat every measurement; the table gives the median (min–max)
#   BIN=path                      revcycle binary to measure (default: cargo build --release
#                                 --locked, then target/release/revcycle)
#   ONLY="report duckdb"          measure only these (of report kpis funnel cycle misalignment
#                                 attribution duckdb floor); default: all. At 50M leads the
#                                 floor (polars holding every file) does not fit in 24 GiB.
#
# DuckDB and polars are benchmark peers installed from PyPI into the virtual
# environment (`python3 -m venv`, `pip install duckdb polars`); they are never
# dependencies of revcycle. The machine may be shared: compare figures of one run.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000 10000000)
for n in "${sizes[@]}"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: size must be a lead count, got '$n'" >&2; exit 2; }
done
dir="${BENCH_DIR:-/tmp/revcycle-bench}"
runs="${RUNS:-1}"
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: RUNS must be a positive number, got '$runs'" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench.sh: needs GNU time (/usr/bin/time; Debian package 'time')" >&2; exit 2; }
mkdir -p "$dir"

if [ -n "${BIN:-}" ]; then
    bin=$(realpath "$BIN")
else
    cargo build --release --locked >&2
    bin="$repo/${CARGO_TARGET_DIR:-target}/release/revcycle"
fi
[ -x "$bin" ] || { echo "bench.sh: no revcycle binary at $bin" >&2; exit 2; }

# The peer's Python environment, created once.
venv="${BENCH_VENV:-$dir/.bench-venv}"
py="$venv/bin/python"
if ! "$py" -c 'import duckdb, polars' 2>/dev/null; then
    echo "creating $venv (duckdb, polars from PyPI)" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check duckdb polars >&2
fi

work=$(mktemp -d -t revcycle-bench.XXXXXX) # outputs, DuckDB's spill folder
trap 'rm -rf "$work"' EXIT

declare -A wall rss

# measure KEY LABEL COMMAND...: RUNS runs; keeps every wall time (s) and peak RSS (MiB).
measure() {
    local key=$1 label=$2; shift 2
    local i out
    for ((i = 1; i <= runs; i++)); do
        [ -n "${pre_run:-}" ] && eval "$pre_run"
        if /usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null 2>"$work/log"; then
            read -r w m <"$work/time"
            wall[$key]+="$w "
            rss[$key]+="$(awk -v k="$m" 'BEGIN { printf "%.0f", k / 1024 }') "
            echo "  $label: ${w} s, $((m / 1024)) MiB" >&2
        else
            echo "  $label FAILED (run $i):" >&2
            tail -n 5 "$work/log" >&2
            wall[$key]="failed"
            rss[$key]="failed"
            return 0
        fi
    done
}

# summary "v1 v2 ...": "median" or "median (min–max)"; median of an even count is the mean of the middle two.
summary() {
    [ "$1" = failed ] && { echo failed; return; }
    tr ' ' '\n' <<<"$1" | grep . | sort -g | awk -v unit="$2" '
        { v[NR] = $1 }
        END {
            med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            if (NR == 1) printf "%s%s", fmt(med), unit
            else printf "%s%s (%s–%s)", fmt(med), unit, fmt(v[1]), fmt(v[NR])
        }
        function fmt(x) { return (x >= 100 || unit == " MiB") ? sprintf("%.0f", x) : sprintf("%.2f", x) }'
}
median() {
    [ "$1" = failed ] && return
    tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { # a b -> a/b with 2 decimals, empty when either is missing
    if [ -n "$1" ] && [ -n "$2" ]; then awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b }'; fi
}

commands=(report kpis funnel cycle misalignment attribution)
only=" ${ONLY:-report kpis funnel cycle misalignment attribution duckdb floor} "
for m in $only; do
    [[ " report kpis funnel cycle misalignment attribution duckdb floor " == *" $m "* ]] ||
        { echo "bench.sh: ONLY: unknown measurement '$m'" >&2; exit 2; }
done
wanted() { [[ $only == *" $1 "* ]]; }
echo "revcycle bench: $bin ($("$bin" --version)), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg) at start" >&2
for n in "${sizes[@]}"; do
    data="$dir/$n"
    if [ -f "$data/leads.csv" ] && [ -f "$data/touches.csv" ]; then
        echo "$n leads: using the existing set $data" >&2
    elif [ -e "$data" ]; then
        echo "bench.sh: $data exists but holds no leads.csv + touches.csv; remove it to regenerate" >&2
        exit 2
    else
        echo "$n leads: generating $data" >&2
        pre_run="rm -rf '$data.partial'"
        measure "$n|demo" "demo --rows $n" "$bin" demo --out "$data.partial" --rows "$n" -q
        pre_run=""
        [ "${wall[$n|demo]}" = failed ] && exit 1
        mv "$data.partial" "$data"
    fi
    echo "$n leads ($(du -sh --apparent-size "$data" | cut -f1) of CSV), $runs run(s) each:" >&2
    pre_run="rm -rf '$work/report-$n'"
    if wanted report; then measure "$n|report" "report" "$bin" report "$data" --period month --out "$work/report-$n" -q; fi
    pre_run=""
    for cmd in kpis funnel cycle misalignment attribution; do
        if wanted $cmd; then measure "$n|$cmd" "$cmd" "$bin" "$cmd" "$data" --format csv -q; fi
    done
    pre_run="rm -rf '$work/duckdb-$n' '$work/duckdb-tmp'"
    if wanted duckdb; then measure "$n|duckdb" "DuckDB, the report's tables" "$py" scripts/bench_duckdb.py "$data" "$work/duckdb-$n" --temp "$work/duckdb-tmp"; fi
    pre_run=""
    if wanted floor; then measure "$n|floor" "polars reading every CSV" "$py" scripts/bench_floor.py "$data"; fi
    if [ -d "$work/report-$n" ] && [ -d "$work/duckdb-$n" ]; then
        echo "$n leads: DuckDB's tables against revcycle's report" >&2
        python3 scripts/bench_compare.py "$work/report-$n" "$work/duckdb-$n" >"$work/compare-$n" || true
    fi
done

# The table.
name() {
    case $1 in
        demo) echo "\`revcycle demo --rows N\`" ;;
        report) echo "\`revcycle report\` (all tables, month)" ;;
        duckdb) echo "DuckDB: the report's tables (peer)" ;;
        floor) echo "polars: read every CSV (floor)" ;;
        *) echo "\`revcycle $1 --format csv\`" ;;
    esac
}
human() { awk -v n="$1" 'BEGIN { if (n % 1000000 == 0) printf "%dM", n / 1000000; else if (n % 1000 == 0) printf "%dk", n / 1000; else printf "%d", n }'; }

echo
echo "revcycle $("$bin" --version | cut -d' ' -f2) ($bin), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(date -u '+%Y-%m-%d %H:%M UTC'), RUNS=$runs$( [ "$runs" -gt 1 ] && echo ': median (min–max)'); DuckDB $("$py" -c 'import duckdb; print(duckdb.__version__)'), polars $("$py" -c 'import polars; print(polars.__version__)')"
echo
echo "| leads | command | wall | peak RSS | wall ÷ DuckDB | RSS ÷ DuckDB | wall ÷ floor | RSS ÷ floor | wall ÷ previous size | RSS ÷ previous size |"
echo "|---|---|---|---|---|---|---|---|---|---|"
prev=""
for n in "${sizes[@]}"; do
    dw=$(median "${wall[$n|duckdb]:-failed}"); dm=$(median "${rss[$n|duckdb]:-failed}")
    fw=$(median "${wall[$n|floor]:-failed}"); fm=$(median "${rss[$n|floor]:-failed}")
    for cmd in demo "${commands[@]}" duckdb floor; do
        key="$n|$cmd"
        [ -n "${wall[$key]:-}" ] || continue
        w=$(median "${wall[$key]}"); m=$(median "${rss[$key]}")
        vs_d="" vs_dm="" vs_f="" vs_fm="" g="" gm=""
        case $cmd in
            demo) ;;
            duckdb) vs_f=$(ratio "$w" "$fw"); vs_fm=$(ratio "$m" "$fm") ;;
            floor) ;;
            *) vs_d=$(ratio "$w" "$dw"); vs_dm=$(ratio "$m" "$dm"); vs_f=$(ratio "$w" "$fw"); vs_fm=$(ratio "$m" "$fm") ;;
        esac
        if [ -n "$prev" ] && [ -n "${wall[$prev|$cmd]:-}" ]; then
            pw=$(median "${wall[$prev|$cmd]}"); pm=$(median "${rss[$prev|$cmd]}")
            g=$(ratio "$w" "$pw"); gm=$(ratio "$m" "$pm")
            [ -n "$g" ] && g="$g ($(human "$n")/$(human "$prev"))"
        fi
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(human "$n")" "$(name "$cmd")" \
            "$(summary "${wall[$key]}" " s")" "$(summary "${rss[$key]}" " MiB")" \
            "$vs_d" "$vs_dm" "$vs_f" "$vs_fm" "$g" "$gm"
    done
    prev=$n
done
for n in "${sizes[@]}"; do
    if [ -f "$work/compare-$n" ]; then
        echo
        echo "DuckDB's tables against revcycle's report, $(human "$n") leads (scripts/bench_compare.py):"
        echo
        cat "$work/compare-$n"
    fi
done
