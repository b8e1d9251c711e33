#!/usr/bin/env bash
set -euo pipefail

# --8<-- [start:install]
go install github.com/air-verse/air@v1.67.4
# --8<-- [end:install]
