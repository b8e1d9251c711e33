#!/usr/bin/env bash
# Example 3: deploy and operate the Kubernetes manifests (run from snippets/myapp).
set -euo pipefail

# --8<-- [start:usage]
# Apply all manifests
kubectl apply -k k8s/

# Or one by one
kubectl apply -f k8s/namespace.yaml
kubectl apply -f k8s/serviceaccount.yaml
kubectl apply -f k8s/configmap.yaml
kubectl apply -f k8s/secret.yaml
kubectl apply -f k8s/deployment.yaml
kubectl apply -f k8s/service.yaml
kubectl apply -f k8s/ingress.yaml
kubectl apply -f k8s/hpa.yaml
kubectl apply -f k8s/networkpolicy.yaml

# Check status
kubectl -n myapp get pods
kubectl -n myapp get svc
kubectl -n myapp get hpa

# Logs
kubectl -n myapp logs -f deployment/myapp

# Port forward for testing
kubectl -n myapp port-forward svc/myapp 8080:80

# Scale
# the HPA owns the Pod count (kubectl scale would be undone): change its bounds
kubectl -n myapp patch hpa myapp --type=merge -p '{"spec":{"minReplicas":5}}'

# Update the image
kubectl -n myapp set image deployment/myapp myapp=ghcr.io/myorg/myapp:v1.1.0

# Rollout status
kubectl -n myapp rollout status deployment/myapp

# Roll back
kubectl -n myapp rollout undo deployment/myapp
# --8<-- [end:usage]
