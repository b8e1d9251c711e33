#!/usr/bin/env bash
set -euo pipefail

# Build the debug variant (snippets/docker/distroless/debug/Dockerfile, context: the service)
docker build --target app-debug -t myapp:debug .

# --8<-- [start:debug]
# Debugging with the debug image
docker run -it --entrypoint=sh myapp:debug
# --8<-- [end:debug]
