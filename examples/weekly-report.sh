#!/bin/sh
# Weekly revcycle report: writes reports/YYYY-MM-DD (every table as CSV,
# summary.md, manifest.json) from the exports in EXPORTS, and keeps the last
# KEEP report folders. The report folder appears whole or not at all.
#
# Crontab line (every Monday at 06:00; cron's PATH is short, so give full paths):
#   0 6 * * 1  cd /srv/revops && ./weekly-report.sh >>reports/cron.log 2>&1
#
# Settings (environment):
#   REVCYCLE  the binary            (default: revcycle on PATH)
#   EXPORTS   folder of leads.*, opportunities.*, campaigns.*, revenue.*
#             (default: exports; "--demo" uses the built-in sample data)
#   REPORTS   folder of report folders   (default: reports)
#   KEEP      how many report folders to keep   (default: 12)
set -eu

REVCYCLE=${REVCYCLE:-revcycle}
EXPORTS=${EXPORTS:-exports}
REPORTS=${REPORTS:-reports}
KEEP=${KEEP:-12}

case "$KEEP" in
    ''|*[!0-9]*) echo "weekly-report: KEEP must be a whole number, got '$KEEP'" >&2; exit 2 ;;
esac

if [ "$EXPORTS" = "--demo" ]; then
    set -- --demo
else
    set -- "$EXPORTS"
fi

# -q: only errors reach the log; --force: a second run on the same day
# replaces that day's folder (atomically).
"$REVCYCLE" -q report "$@" --out "$REPORTS/%Y-%m-%d" --force

# Keep the newest KEEP folders named YYYY-MM-DD (names sort by date).
ls -1 "$REPORTS" \
    | grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' \
    | sort -r \
    | tail -n +"$((KEEP + 1))" \
    | while IFS= read -r old; do
        rm -rf -- "${REPORTS:?}/$old"
    done
