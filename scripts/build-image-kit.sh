#!/usr/bin/env bash
# Build (or pull) the base images the snippets need; see scripts/snipcheck/imagekit/.
# Usage: scripts/build-image-kit.sh [ensure-all | ensure REF... | table | mode | remove [--dry-run]]
# Mode: SNIPCHECK_IMAGES=auto|local|registry (default auto).
# The kit's images are named snipcheck.local/<upstream name>; upstream names in the Docker store are never
# tagged. `remove` deletes the kit's images (label io.snipcheck.kit) and nothing else.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
py=${PYTHON:-$root/.venv/bin/python}
[ -x "$py" ] || py=python3
cd "$root"
PYTHONPATH="$root/scripts${PYTHONPATH:+:$PYTHONPATH}" exec "$py" -m snipcheck.imagekit "${@:-ensure-all}"
