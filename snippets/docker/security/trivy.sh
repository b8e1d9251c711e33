#!/usr/bin/env bash
set -euo pipefail

# --8<-- [start:trivy]
# Install (macOS)
brew install trivy

# Install (Linux)
curl -sfL https://raw.githubusercontent.com/aquasecurity/trivy/main/contrib/install.sh | sh -s -- -b /usr/local/bin

# Scan an image
trivy image myapp:latest

# Only critical and high vulnerabilities
trivy image --severity CRITICAL,HIGH myapp:latest

# JSON output for CI/CD
trivy image --format json --output results.json myapp:latest

# Fail if there are critical vulnerabilities
trivy image --exit-code 1 --severity CRITICAL myapp:latest
# --8<-- [end:trivy]
