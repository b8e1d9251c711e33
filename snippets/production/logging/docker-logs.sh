#!/usr/bin/env bash
set -euo pipefail

# --8<-- [start:logs]
# Follow a container's logs
docker logs -f myapp

# With timestamps
docker logs -f --timestamps myapp

# Last 100 lines
docker logs --tail 100 myapp
# --8<-- [end:logs]
