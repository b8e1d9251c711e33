#!/usr/bin/env bash
# Fetches the pinned mermaid build from the npm registry into build/vendor/ for the site tier: Material
# loads mermaid from unpkg, which the test machine cannot reach, so the browser is given this copy.
# Keep the version equal to MERMAID_VERSION in tests/site/browser.py.
# The package tarball is pinned by content: INTEGRITY is its npm `dist.integrity` (SRI, sha512), checked
# after the download and on every reuse of the cached tarball (build/vendor/mermaid-<version>.tgz); a
# cached tarball that does not match is removed and fetched again, a download that does not match fails.
# mermaid.min.js is extracted again from the checked tarball on every run.
# To bump: set VERSION, then INTEGRITY to `npm view mermaid@<version> dist.integrity`.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=11.17.2
INTEGRITY=sha512-V6K3C8EBdEsPFZXSKMJe6ppQOENxuHARr9GvHX4hh47lAbhMRD9qf4oEK7LoaRQxULMa80/qt5gHO73aCleBBg==
TGZ=build/vendor/mermaid-$VERSION.tgz
OUT=build/vendor/mermaid-$VERSION.min.js

log() { printf '[mermaid] %s\n' "$*"; }
# sri FILE -> the file's SRI sha512 ("sha512-<base64>"), as npm writes dist.integrity
sri() {
  local hex escaped="" i
  hex=$(sha512sum "$1" | cut -d' ' -f1)
  for ((i = 0; i < ${#hex}; i += 2)); do escaped+="\\x${hex:i:2}"; done
  printf 'sha512-%s' "$(printf '%b' "$escaped" | base64 -w0)"
}

tmp=$(mktemp -d)
trap 'rm -rf --one-file-system "$tmp"' EXIT
if [ -f "$TGZ" ]; then
  if [ "$(sri "$TGZ")" = "$INTEGRITY" ]; then
    log "$TGZ present, integrity checked ($INTEGRITY)"
  else
    log "$TGZ does not match the pinned integrity (has $(sri "$TGZ"), pinned $INTEGRITY in scripts/fetch-mermaid.sh): the cached file was changed or damaged; removing it and fetching again" >&2
    rm -f "$TGZ" "$OUT"
  fi
fi
if [ ! -f "$TGZ" ]; then
  command -v npm >/dev/null 2>&1 || { log "npm is required (Debian: apt-get install -y npm)" >&2; exit 1; }
  log "fetching mermaid@$VERSION from the npm registry (npm pack)"
  (cd "$tmp" && npm pack --silent "mermaid@$VERSION" >/dev/null)
  got=$(sri "$tmp/mermaid-$VERSION.tgz")
  if [ "$got" != "$INTEGRITY" ]; then
    log "ERROR: mermaid@$VERSION from the registry has integrity $got, scripts/fetch-mermaid.sh pins $INTEGRITY: refusing it (nothing written). Check the registry (npm config get registry); only change the pin after checking the new value with \`npm view mermaid@$VERSION dist.integrity\`" >&2
    exit 1
  fi
  mkdir -p build/vendor
  mv "$tmp/mermaid-$VERSION.tgz" "$TGZ"
  log "$TGZ from the npm registry, integrity checked ($INTEGRITY)"
fi
tar -xzf "$TGZ" -C "$tmp" package/dist/mermaid.min.js
mv "$tmp/package/dist/mermaid.min.js" "$OUT"
log "$OUT extracted from $TGZ"
