#!/usr/bin/env bash
# Example 2: everyday Docker Compose commands (run from snippets/myapp).
set -euo pipefail

# --8<-- [start:usage]
# Development (hot reload, adminer, redis-commander)
docker compose up

# Production (app + dependencies only)
docker compose -f compose.yaml up

# Production with monitoring
docker compose -f compose.yaml -f compose.monitoring.yaml up

# Build and start
docker compose build
docker compose up -d

# Logs
docker compose logs -f app

# Stop
docker compose down

# Clean up (including volumes)
docker compose down -v
# --8<-- [end:usage]
