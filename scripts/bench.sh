#!/usr/bin/env bash
# Benchmark revcycle on demo data at 1M and 10M leads: wall time and peak RSS
# of `demo` (generation) and of `kpis`, `funnel`, `cycle`, `misalignment`,
# `attribution` (all eight models over the demo's touches; CSV output to
# /dev/null), one run each, measured with GNU time.
#
#   scripts/bench.sh [SIZES...]        default: 1000000 10000000
#   BENCH_DIR=/tmp/revcycle-bench      where the data sets are written (kept between runs)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000 10000000)
dir="${BENCH_DIR:-/tmp/revcycle-bench}"
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time; Debian package 'time')" >&2; exit 2; }

cargo build --release --locked >&2
bin="${CARGO_TARGET_DIR:-target}/release/revcycle"

measure() { # label, command...
    local label=$1; shift
    local log; log=$(mktemp)
    /usr/bin/time -v "$@" >/dev/null 2>"$log" || { cat "$log" >&2; rm -f "$log"; return 1; }
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$log")
    printf '| %-26s | %10s | %8s MiB |\n' "$label" "$wall" "$rss"
    rm -f "$log"
}

echo "revcycle $("$bin" --version | cut -d' ' -f2), $(nproc) cores, $(date -u +%Y-%m-%d)"
printf '| %-26s | %10s | %12s |\n' "command" "wall" "peak RSS"
printf '|%s|%s|%s|\n' "----------------------------" "------------" "--------------"
for n in "${sizes[@]}"; do
    data="$dir/$n"
    if [ ! -f "$data/.complete" ]; then
        rm -rf "$data"
        measure "demo --rows $n" "$bin" demo --out "$data" --rows "$n" -q
        touch "$data/.complete"
    fi
    for cmd in kpis funnel cycle misalignment; do
        measure "$cmd ($n leads)" "$bin" "$cmd" "$data" --format csv -q
    done
    measure "attribution ($n leads)" "$bin" attribution "$data" --format csv -q
done
