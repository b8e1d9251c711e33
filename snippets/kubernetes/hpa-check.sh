#!/usr/bin/env bash
set -euo pipefail

# --8<-- [start:check]
# HPA status
kubectl get hpa myapp-hpa --namespace production

# Details
kubectl describe hpa myapp-hpa --namespace production

# Load test
kubectl run -it --rm load-generator --namespace production \
    --image=busybox:1.36 --restart=Never -- sh
# then, inside the container:
# while true; do wget -qO- http://myapp/api/v1/users; done
# --8<-- [end:check]
