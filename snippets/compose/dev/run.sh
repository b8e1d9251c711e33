#!/usr/bin/env bash
# Run from snippets/compose/app: compose.yaml plus the development override.
set -euo pipefail

# --8<-- [start:run]
# Development with hot reload
docker compose -f compose.yaml -f compose.dev.yaml up

# Or with a profile
docker compose --profile dev up
# --8<-- [end:run]
