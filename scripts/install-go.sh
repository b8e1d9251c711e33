#!/usr/bin/env bash
# Go for the suite when the machine has none (>= 1.26 needed): the official toolchain from the Go
# module proxy (golang.org/toolchain, the version and sha256 the image kit pins), unpacked into the
# project's own build/tools/go — nothing system-wide. Prints the Go binary's directory. Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[install-go] %s\n' "$*" >&2; }

have_go() { # have_go GO -> is it >= 1.26?
  local v
  v=$("$1" env GOVERSION 2>/dev/null | sed 's/^go//') || return 1
  [ "$(printf '%s\n%s\n' 1.26 "$v" | sort -V | head -n1)" = 1.26 ]
}
# build/tools/go counts only when complete: it is unpacked beside its place and renamed into it with
# this marker inside, so a killed install never leaves a half Go that a later run would take (review L2)
DEST="$ROOT/build/tools/go"
MARK=.snipcheck-complete
# the machine's own Go first (SNIPCHECK_NO_MACHINE_GO=1 skips it: the script's test, tests/inventory/machinery/test_install_go.py)
machine=("$(command -v go || true)" /usr/local/go/bin/go)
[ "${SNIPCHECK_NO_MACHINE_GO:-0}" = 1 ] && machine=()
for cand in "${machine[@]}" "$DEST/bin/go"; do
  [ "$cand" = "$DEST/bin/go" ] && [ ! -f "$DEST/$MARK" ] && continue
  if [ -n "$cand" ] && [ -x "$cand" ] && have_go "$cand"; then
    dirname "$cand"; exit 0
  fi
done

recipes="$ROOT/scripts/snipcheck/harness/imagekit/recipes.py"
version=$(sed -n 's/^GO_VERSION = "\(.*\)"/\1/p' "$recipes")
sha=$(sed -n 's/^GO_ZIP_SHA256 = "\(.*\)"/\1/p' "$recipes")
[ "$(uname -m)" = x86_64 ] || { log "no Go >= 1.26 and this is not linux/amd64: install Go from https://go.dev/dl/"; exit 1; }
proxy=${GOPROXY:-https://proxy.golang.org}; proxy=${proxy%%,*}
url="$proxy/golang.org/toolchain/@v/v0.0.1-go$version.linux-amd64.zip"
mkdir -p "$ROOT/build/tools"
# what a killed install left beside build/tools/go: .go.PID.* of a process that no longer runs
for left in "$ROOT"/build/tools/.go.*.*; do
  pid=${left#"$ROOT"/build/tools/.go.}; pid=${pid%%.*}
  if [ -d "$left" ] && [[ "$pid" =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null; then
    log "removing $left (left by an install that was killed)"; rm -rf --one-file-system "$left"
  fi
done
tmp=$(mktemp -d)
unpacked=$(mktemp -d "$ROOT/build/tools/.go.$$.XXXXXX")
old="$ROOT/build/tools/.go.$$.old"
trap 'rm -rf --one-file-system "$tmp" "$unpacked" "$old"' EXIT
log "no Go >= 1.26 on this machine: fetching go$version from the module proxy into build/tools/go"
curl -fsSL --retry 3 -o "$tmp/go.zip" "$url"
echo "$sha  $tmp/go.zip" | sha256sum -c - >/dev/null || { log "sha256 mismatch for $url"; exit 1; }
# the module zip holds golang.org/toolchain@.../{bin,pkg,src...}; zip files carry no exec bits
python3 - "$tmp/go.zip" "$unpacked" <<'PY'
import os, sys, zipfile
src, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as z:
    for info in z.infolist():
        # golang.org/toolchain@v0.0.1-goX.Y.Z.linux-amd64/bin/go -> bin/go
        name = info.filename.partition("@")[2].partition("/")[2]
        if not name or name.endswith("/"):
            continue
        out = os.path.join(dest, name)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(info) as r, open(out, "wb") as w:
            w.write(r.read())
        if name.startswith("bin/") or "/tool/" in name:
            os.chmod(out, 0o755)
PY
"$unpacked/bin/go" version >&2 || { log "the unpacked go$version does not run ($unpacked)"; exit 1; }
touch "$unpacked/$MARK"
chmod 755 "$unpacked" # mktemp made it 0700
if [ -e "$DEST" ]; then mv "$DEST" "$old"; fi
mv "$unpacked" "$DEST"
log "go$version in build/tools/go"
echo "$DEST/bin"
