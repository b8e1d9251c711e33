#!/usr/bin/env bash
# Build (or pull) the base images the snippets need; see scripts/snipcheck/imagekit/.
# Usage: scripts/build-image-kit.sh [ensure-all | ensure REF... | table | mode]
# Mode: SNIPCHECK_IMAGES=auto|local|registry (default auto).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
py=${PYTHON:-$root/.venv/bin/python}
[ -x "$py" ] || py=python3
cd "$root"
PYTHONPATH="$root/scripts${PYTHONPATH:+:$PYTHONPATH}" exec "$py" -m snipcheck.imagekit "${@:-ensure-all}"
