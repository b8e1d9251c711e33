"""PROVE — drivers of the real tools the tests run: processes and waiting, the Docker engine (docker/), the base-
image kit (imagekit/), Kubernetes (kube/).
"""
