#!/usr/bin/env bash
set -euo pipefail

# --8<-- [start:verify]
# The user the image is configured to run as (works for every image, even scratch)
docker inspect --format '{{.Config.User}}' myapp
# Must return NOT root:
# 65534:65534 (not empty, not 0, not root)

# The user the process really runs as: ask the host
# (scratch and distroless have no `id` or `whoami` inside)
docker run -d --name myapp-uid -e DB_PASSWORD=secret myapp
docker top myapp-uid -o pid,uid,gid,comm
# PID     UID     GID     COMMAND
# 12345   65534   65534   server
docker rm -f myapp-uid

# Images with a shell tool set (alpine, distroless :debug) can run `id` themselves
docker run --rm --entrypoint id myapp:alpine
# uid=10001(appuser) ...
# --8<-- [end:verify]
