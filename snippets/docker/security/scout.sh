#!/usr/bin/env bash
set -euo pipefail

# --8<-- [start:scout]
# Analyse an image
docker scout cves myapp:latest

# Base image update recommendations
docker scout recommendations myapp:latest
# --8<-- [end:scout]
