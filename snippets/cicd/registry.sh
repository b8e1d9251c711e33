#!/usr/bin/env bash
set -euo pipefail

# --8<-- [start:ghcr]
# Log in
echo "$GITHUB_TOKEN" | docker login ghcr.io -u USERNAME --password-stdin

# Push
docker push ghcr.io/myorg/myapp:v1.0.0
# --8<-- [end:ghcr]

# --8<-- [start:dockerhub]
docker login
docker push myorg/myapp:v1.0.0
# --8<-- [end:dockerhub]

# --8<-- [start:ecr]
# Get a token
aws ecr get-login-password --region us-east-1 | \
    docker login --username AWS --password-stdin \
    123456789012.dkr.ecr.us-east-1.amazonaws.com

# Push
docker push 123456789012.dkr.ecr.us-east-1.amazonaws.com/myapp:v1.0.0
# --8<-- [end:ecr]
