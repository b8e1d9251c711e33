#!/usr/bin/env bash
set -euo pipefail

# --8<-- [start:build]
# Once: a builder that can produce multi-platform images
# (not needed with the containerd image store)
docker buildx create --name multiarch --driver docker-container --use

# Build for several platforms
docker buildx build \
    --platform linux/amd64,linux/arm64 \
    --tag ghcr.io/myorg/myapp:v1.0.0 \
    --push \
    .

# Local build for the current platform
docker buildx build \
    --load \
    --tag myapp:local \
    .
# --8<-- [end:build]
