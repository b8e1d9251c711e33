"""Claiming the host for the node: one node per network namespace (the lock), a host that runs another Kubernetes
refused before anything changes, a killed run's node put back, the host recorded and journalled.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .. import waiting
from . import hoststate
from . import journal as nodejournal
from .process import KubeError

LOCK_WAIT_S = 600.0


class HostInUse(KubeError):
    """The host runs Kubernetes networking that is not this run's node's: the node would share it."""


def wait_for_host_lock() -> nodejournal.HostLock:
    """The node lock of this network namespace, once another run's node (if one is up) has stopped."""
    lock = nodejournal.HostLock()
    waiting.until(lock.acquire, timeout=LOCK_WAIT_S, what="another run's node to stop (@snipcheck-node)")
    return lock


def claim_host(lock: nodejournal.HostLock, ranges: tuple[str, ...]) -> tuple[Path, hoststate.HostState, list[str]]:
    """With `lock` held: refuse a host where another Kubernetes or CNI user runs (HostInUse), before
    anything is changed; put back what a killed run's node left (nodejournal.recover, from a journal it
    trusts); refuse rules in KUBE-*/CNI-* chains that are still in force and routes that overlap the node's
    `ranges` (its Pod and Service CIDRs); record the host and journal it with a new work directory. Returns
    (work directory, recorded state, what recovery did); on any error the lock is released and nothing of the
    node's is left."""
    try:
        journal = nodejournal.load()
        if running := hoststate.foreign_kubernetes(None if journal is None else journal.workdir):
            raise HostInUse(
                "another Kubernetes node or CNI container engine runs on this host (kubelet, kube-proxy, k3s, "
                "cri-o, podman's conmon/netavark): the node would share its iptables chains, cgroups and "
                "directories, and nothing was changed. Stop it first. Running:\n" + "\n".join(running[:5])
            )
        recovered = [] if journal is None else nodejournal.recover(journal)
        if rules := hoststate.kubernetes_rules():
            raise HostInUse(
                "this host runs Kubernetes networking of its own (rules in KUBE-*/CNI-* chains, and no "
                f"snipcheck run's journal {nodejournal.JOURNAL} explains them): the node would share "
                "them. Stop that Kubernetes, or remove the rules if they are a dead cluster's. First ones:\n"
                + "\n".join(rules[:5])
            )
        if overlaps := hoststate.route_overlaps(list(ranges)):
            raise HostInUse(
                f"the node's ranges ({', '.join(ranges)}: its Pods and Services) are in use on this "
                "host: taking them would divert its traffic. Nothing was changed.\n" + "\n".join(overlaps)
            )
        before = hoststate.HostState.record()
        workdir = Path(tempfile.mkdtemp(prefix=nodejournal.WORKDIR_PREFIX))
        nodejournal.write(workdir, before)  # before the node changes anything
    except BaseException:
        lock.release()
        raise
    return workdir, before, recovered
