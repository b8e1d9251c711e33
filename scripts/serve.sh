#!/usr/bin/env bash
# Sets up the Python dependencies and serves the site on http://127.0.0.1:8000 (live reload,
# including edits under snippets/). It runs this checkout's code (the hooks in scripts/hooks/, the pinned
# requirements): preview an unread pull request only in a throwaway machine or container.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --site
export NO_MKDOCS_2_WARNING=1
exec .venv/bin/mkdocs serve -a 127.0.0.1:8000 "$@"
