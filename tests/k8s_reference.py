"""A valid Deployment + Ingress + HPA that the Kubernetes checks mutate into broken variants
(kubeconform in the static tier, the API server in the cluster tier)."""

VALID_MANIFESTS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: myapp
spec:
  replicas: 2
  selector:
    matchLabels: {app: myapp}
  template:
    metadata:
      labels: {app: myapp}
    spec:
      containers:
        - name: myapp
          image: myapp:1.0.0
          ports: [{containerPort: 8080}]
          readinessProbe:
            httpGet: {path: /health/ready, port: 8080}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: myapp}
spec:
  rules:
    - http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: myapp, port: {number: 80}}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: myapp}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: myapp}
  minReplicas: 2
  maxReplicas: 5
"""
