#!/usr/bin/env bash
set -euo pipefail

# --8<-- [start:trivy]
# Install (macOS)
brew install trivy

# Install (Linux):
# a fixed release through the installer of that same tag, never the newest from main
# (a compromised release was published in March 2026); the installer checks the archive's checksum
TRIVY_VERSION=v0.69.3
curl -sfL "https://raw.githubusercontent.com/aquasecurity/trivy/${TRIVY_VERSION}/contrib/install.sh" |
  sh -s -- -b /usr/local/bin "${TRIVY_VERSION}"

# Scan an image
trivy image myapp:latest

# Only critical and high vulnerabilities
trivy image --severity CRITICAL,HIGH myapp:latest

# JSON output for CI/CD
trivy image --format json --output results.json myapp:latest

# Fail if there are critical vulnerabilities
trivy image --exit-code 1 --severity CRITICAL myapp:latest
# --8<-- [end:trivy]
