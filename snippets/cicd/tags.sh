#!/usr/bin/env bash
set -euo pipefail

# --8<-- [start:tags]
# Tags from Git
VERSION=$(git describe --tags --always)
COMMIT=$(git rev-parse --short HEAD)

docker build \
    --tag "myapp:$VERSION" \
    --tag "myapp:$COMMIT" \
    --tag myapp:latest \
    .
# --8<-- [end:tags]
