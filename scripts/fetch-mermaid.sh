#!/usr/bin/env bash
# Fetches the pinned mermaid build from the npm registry into build/vendor/ for the site tier: Material
# loads mermaid from unpkg, which the test machine cannot reach, so the browser is given this copy.
# Keep the version equal to MERMAID_VERSION in tests/site/browser.py.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=11.17.2
OUT=build/vendor/mermaid-$VERSION.min.js
[ -s "$OUT" ] && { echo "[mermaid] $OUT present"; exit 0; }
command -v npm >/dev/null 2>&1 || { echo "[mermaid] npm is required (Debian: apt-get install -y npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "mermaid@$VERSION" >/dev/null)
tar -xzf "$tmp/mermaid-$VERSION.tgz" -C "$tmp" package/dist/mermaid.min.js
mkdir -p build/vendor
mv "$tmp/package/dist/mermaid.min.js" "$OUT"
echo "[mermaid] $OUT from the npm registry"
