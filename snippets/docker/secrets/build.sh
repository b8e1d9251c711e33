#!/usr/bin/env bash
set -euo pipefail

# --8<-- [start:usage]
# Pass the secret at build time:
# from a file (keep the file outside the build context)
echo "ghp_xxxxxxxxxxxx" > ~/github_token.txt
docker build --secret id=github_token,src="$HOME/github_token.txt" -t myapp .

# Or from an environment variable
docker build --secret id=github_token,env=GITHUB_TOKEN -t myapp .
# --8<-- [end:usage]
