#!/usr/bin/env bash
# Sets up what the selected tiers need and runs them; prints wall time and counts per tier and writes
# the JSON report to build/report.json (SNIPCHECK_REPORT overrides).
#   bash scripts/test.sh                        # everything
#   bash scripts/test.sh -m "inventory or static"   # extra arguments go to pytest
#   bash scripts/test.sh --changed [BASE]       # only what the diff against BASE (default: the merge
#                                               # base with main) can affect; see snipcheck/changes.py
# Runs as root or as a user with sudo; root is asked for only to install Debian packages or start a
# Docker engine, and only for the tiers that need them.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

changed="" base=""
if [ "${1:-}" = --changed ]; then
  changed=1; shift
  if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then base=$1; shift; fi
fi

# A record of a background build that a killed run left (build/install-kube.pid) names no build of
# ours: removed before anything could act on it.
python3 scripts/snipcheck/harness/background.py forget-stale build/install-kube.pid
bash scripts/setup.sh --site
mkdir -p build
export NO_MKDOCS_2_WARNING=1

# The host's own packages must come out of the setup as they went in (outside the explicit opt-in).
host_packages() { dpkg-query -W -f '${Package}=${Version}\n' libc6 systemd python3 2>/dev/null | sort || true; }
before=$(host_packages)

# What the caches hold before the setup fills them: the report says whether this run was cold or warm.
(cd scripts && ../.venv/bin/python -m snipcheck cache-state --write ../build/caches-at-start.json) \
  || echo "[test] could not read the cache state (the report will not say cold or warm)" >&2
export SNIPCHECK_CACHES_AT_START=$PWD/build/caches-at-start.json

if [ -n "$changed" ]; then
  (cd scripts && ../.venv/bin/python -m snipcheck changes ${base:+"$base"} --write ../build/selection.json)
  export SNIPCHECK_SELECTION=$PWD/build/selection.json
fi

# Which tiers do the selected tests belong to? Prepare only those.
tiers_file=build/.tiers
rm -f "$tiers_file"
collect_status=0
SNIPCHECK_TIERS_FILE=$tiers_file .venv/bin/pytest --collect-only -q -p no:xdist "$@" >build/.collect.log 2>&1 \
  || collect_status=$?
tiers=$(cat "$tiers_file" 2>/dev/null || true)
if [ "$collect_status" -ne 0 ] && [ "$collect_status" -ne 5 ]; then
  echo "[test] collecting the tests failed (exit $collect_status):" >&2
  tail -n 30 build/.collect.log >&2
  exit 1
fi
if [ -z "$tiers" ] && [ -n "$changed" ]; then
  echo "[test] the change affects none of the selected tests: nothing to run (an empty report is written)"
  SNIPCHECK_STARTED=$start .venv/bin/pytest -q -p no:xdist "$@" || [ $? -eq 5 ]
  exit 0
fi
if [ -z "$tiers" ]; then
  echo "[test] no tests selected by: ${*:-(all)} — pytest says:" >&2
  .venv/bin/pytest --collect-only -q "$@" | tail -n 20 >&2 || true
  exit 1
fi
echo "[test] tiers to run: $tiers"
# A background build of the Kubernetes binaries (setup.sh) never outlives the run. Its record,
# build/install-kube.pid, is trusted only while it names that very build (scripts/snipcheck/harness/background.py:
# same boot, pid and start time, a group leader running install-kube.sh); a stale one is reported and
# removed, never signalled.
# shellcheck disable=SC2329  # called by the EXIT trap
stop_background_build() {
  [ -f build/install-kube.pid ] || return 0
  if python3 scripts/snipcheck/harness/background.py stop build/install-kube.pid; then
    echo "[test] stopped the unfinished background build of the Kubernetes binaries (build/install-kube.log)"
  elif [ -f build/install-kube.status ]; then
    echo "[test] background build of the Kubernetes binaries: exit $(cat build/install-kube.status)," \
      "$(grep -o 'built [a-z-]* in [0-9]*s' build/install-kube.log | tr '\n' ' ')(build/install-kube.log)"
  fi
  rm -f build/install-kube.pid
}
trap stop_background_build EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export SNIPCHECK_KUBE_BACKGROUND=1
setup_start=$(date +%s)
bash scripts/setup.sh --tiers "$tiers"
export SNIPCHECK_SETUP_SECONDS=$(( $(date +%s) - setup_start ))
echo "[test] setup took $SNIPCHECK_SETUP_SECONDS s"

after=$(host_packages)
if [ "$before" != "$after" ] && [ "${SNIPCHECK_ALLOW_MIXED_RELEASES:-0}" != 1 ]; then
  echo "[test] the setup changed the host's own packages (libc6, systemd, python3):" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi

go_bin=$(cat build/.go-bin 2>/dev/null || echo /usr/local/go/bin)
export PATH=$go_bin:$HOME/go/bin:$PWD/build/tools/bin:$PWD/.venv/bin:$PATH
# Parallel workers (pytest-xdist): the tests of one snippet share a worker (--dist loadgroup), Docker
# objects are named per worker. Groups start in the order the workers collected them
# (--no-loadscope-reorder): tests/conftest.py sorts them as xdist would (largest first) but puts the real
# node's group first, a long wait that would otherwise be the run's tail; while setup.sh builds the
# Kubernetes binaries in the background, the node's group first and then the suite's order (the API
# server's group last, so that it does not wait).
# Workers: 3 on a warm machine (the node's group mostly waits, so two workers stay busy beside it: a warm
# .ci/run is faster with 3 than with 2); while the Kubernetes binaries build in the background (a cold
# machine, the compiles CPU-bound on 2 cores) 2 compiling workers: with the node (SNIPCHECK_NODE=1) a
# third one takes the node's group, waits for the build and runs the node beside the images tier (a cold
# .ci/run is faster with the node first on a third worker than last on two). SNIPCHECK_WORKERS=N overrides
# (1: serial); an explicit -n/-p wins.
workers=${SNIPCHECK_WORKERS:-3}
if [ -z "${SNIPCHECK_WORKERS:-}" ] && [ ! -f build/install-kube.status ] \
  && python3 scripts/snipcheck/harness/background.py alive build/install-kube.pid 2>/dev/null; then
  workers=2
  [ "${SNIPCHECK_NODE:-0}" = 1 ] && workers=3
fi
parallel=(-n "$workers" --dist loadgroup --no-loadscope-reorder)
for arg in "$@"; do
  case "$arg" in -n|-n*|--numprocesses*|-p|no:xdist) parallel=() ;; esac
done
[ "$workers" = 1 ] && parallel=()
set +e
SNIPCHECK_STARTED=$start .venv/bin/pytest "${parallel[@]}" "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "[test] pytest collected no tests: that is a failure" >&2
  status=1
fi
echo "[test] wall time $(( $(date +%s) - start )) s (setup included)"
exit "$status"
