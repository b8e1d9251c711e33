#!/usr/bin/env bash
# Sets up the Python dependencies and serves the site on http://127.0.0.1:8000 (live reload,
# including edits under snippets/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --site
export NO_MKDOCS_2_WARNING=1
exec .venv/bin/mkdocs serve -a 127.0.0.1:8000 "$@"
