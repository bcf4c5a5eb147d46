#!/usr/bin/env bash
# Render a report.html to PNG in headless Chromium at desktop and phone widths:
#   scripts/screenshot.sh REPORT.html OUTDIR
# writes OUTDIR/report-desktop.png (1280 px wide) and OUTDIR/report-phone.png
# (390 px wide). Needs Debian's chromium (apt-get install chromium).
set -euo pipefail
html="$(realpath "$1")"
out="${2:-.}"
mkdir -p "$out"
out="$(realpath "$out")"
browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
[ -n "$browser" ] || { echo "screenshot.sh: chromium not found (apt-get install chromium)" >&2; exit 2; }
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --hide-scrollbars --user-data-dir="$profile")
"$browser" "${flags[@]}" --window-size=1280,2400 --screenshot="$out/report-desktop.png" "file://$html" 2>/dev/null
"$browser" "${flags[@]}" --window-size=390,2400 --screenshot="$out/report-phone.png" "file://$html" 2>/dev/null
echo "wrote $out/report-desktop.png and $out/report-phone.png"
