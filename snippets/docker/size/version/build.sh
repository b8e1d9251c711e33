#!/usr/bin/env bash
set -euo pipefail

# --8<-- [start:build]
docker build \
    --build-arg VERSION="$(git describe --tags)" \
    --build-arg COMMIT="$(git rev-parse --short HEAD)" \
    --build-arg BUILD_TIME="$(date -u +"%Y-%m-%dT%H:%M:%SZ")" \
    -t "myapp:$(git describe --tags)" .
# --8<-- [end:build]
