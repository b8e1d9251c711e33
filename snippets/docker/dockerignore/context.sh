#!/usr/bin/env bash
set -euo pipefail

# --8<-- [start:context]
# How much is sent to the builder as the build context?
docker build --no-cache --progress=plain -t test . 2>&1 | grep "transferring context"
# #2 transferring context: 2B done               <- .dockerignore
# #3 transferring context: X.XXMB 0.1s done      <- the build context
# --8<-- [end:context]
