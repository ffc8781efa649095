#!/usr/bin/env bash
# Renders the built-in HTML digest of a sample window to a PNG with headless
# Chromium (Debian: apt-get install chromium), for eyeballing the template.
#
#   scripts/render-digest.sh [out.png]     (default: ./digest.png)
#
# The sample comes from the relevant labelled items of ../shared/eval when
# present (else a small made-up window); the HTML and text parts are kept
# beside the PNG (out.html, out.html.txt).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$PWD/digest.png}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
html="${out%.png}.html"

chromium=""
for c in chromium chromium-browser google-chrome; do
	if command -v "$c" >/dev/null 2>&1; then chromium="$(command -v "$c")"; break; fi
done
if [ -z "$chromium" ]; then
	echo "render-digest: chromium not found; install it with: apt-get install -y chromium" >&2
	exit 1
fi

(cd "$root" && go test ./sinks/digest -run '^TestWriteSample$' -count=1 -sample-out="$html" >/dev/null)

profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
"$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--user-data-dir="$profile" --screenshot="$out" --window-size=800,1600 \
	"file://$html" >/dev/null 2>&1

test -s "$out"
echo "render-digest: wrote $out (HTML: $html)"
