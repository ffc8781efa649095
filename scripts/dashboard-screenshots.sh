#!/usr/bin/env bash
# Screenshots of every dashboard page at 1440 and 375 px wide, over a
# store filled from the corpus feeds and the labelled items (the same
# fixture as the browser tests), taken with headless Chromium.
#
#   scripts/dashboard-screenshots.sh [DIR]     (default: ./screenshots)
#
# Writes DIR/<page>-1440.png and DIR/<page>-375.png for overview, actors,
# actor, treaty, items, item and sources. Needs chromium (Debian:
# apt-get install chromium; or set CHROMIUM_BIN).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/screenshots}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac

if [ -z "${CHROMIUM_BIN:-}" ] && ! command -v chromium >/dev/null 2>&1; then
	echo "dashboard-screenshots: chromium not found; install it with: apt-get install -y chromium" >&2
	exit 1
fi
mkdir -p "$out"
(cd "$root" && CI=true go test ./cmd/treatywatch -run '^TestDashboardInBrowser$' -count=1 -v \
	-dashboard-screenshots="$out" | grep -E 'wrote|^(--- |ok|FAIL)')
ls "$out"/*.png >/dev/null
echo "dashboard-screenshots: wrote $(ls "$out"/*.png | wc -l) screenshots to $out"
