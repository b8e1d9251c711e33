#!/usr/bin/env bash
# Example 1: build, run and check the production image (run from snippets/myapp).
set -euo pipefail

# --8<-- [start:usage]
# Build with versioning
VERSION=$(git describe --tags --always)
docker build \
    --build-arg VERSION="${VERSION}" \
    --build-arg COMMIT="$(git rev-parse --short HEAD)" \
    --build-arg BUILD_TIME="$(date -u +"%Y-%m-%dT%H:%M:%SZ")" \
    -t "myapp:${VERSION}" \
    .

# Run
# (DB_PASSWORD is required by internal/config)
docker run -d \
    --name myapp \
    -p 8080:8080 \
    -e LOG_LEVEL=info \
    -e DB_PASSWORD=secret \
    "myapp:${VERSION}"

# Check
curl http://localhost:8080/version
curl http://localhost:8080/health/live
docker inspect --format='{{.State.Health.Status}}' myapp

# Image size
docker images myapp
# --8<-- [end:usage]
