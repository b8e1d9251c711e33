#!/usr/bin/env bash
# Run from snippets/compose/app: compose.yaml plus the development override.
set -euo pipefail

# --8<-- [start:run]
# Development with hot reload
docker compose -f compose.yaml -f compose.dev.yaml up

# Or name both files once, for every later command
COMPOSE_FILE=compose.yaml:compose.dev.yaml docker compose up
# --8<-- [end:run]
