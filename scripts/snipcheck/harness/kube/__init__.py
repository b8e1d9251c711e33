"""A real Kubernetes on 127.0.0.1: the control plane (etcd, kube-apiserver, kubectl), the node (containerd,
kubelet, kube-proxy, CoreDNS), the host it changes and puts back, the offline schemas.
"""
