#!/usr/bin/env bash
# Run from snippets/compose/profiles (or wherever your compose.yaml with profiles lives).
set -euo pipefail

# --8<-- [start:usage]
# Development (app + postgres + adminer)
docker compose --profile dev up

# Production (app + postgres + monitoring)
docker compose --profile prod up

# Development + monitoring
docker compose --profile dev --profile monitoring up

# Specific services
docker compose up app postgres
# --8<-- [end:usage]
