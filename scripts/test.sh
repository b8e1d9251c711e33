#!/usr/bin/env bash
# Sets everything up and runs the whole test suite; prints wall time and counts per tier and
# writes the JSON report to build/report.json (SNIPCHECK_REPORT overrides).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m static`.
set -euo pipefail
cd "$(dirname "$0")/.."
setup_start=$(date +%s)
bash scripts/setup.sh
echo "[test] setup took $(( $(date +%s) - setup_start )) s"
export PATH=/usr/local/go/bin:$HOME/go/bin:$PWD/build/bin:$PATH NO_MKDOCS_2_WARNING=1
set +e
.venv/bin/pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "[test] pytest collected no tests: that is a failure" >&2
  status=1
fi
exit "$status"
