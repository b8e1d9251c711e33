"""The cluster tier's control plane: one etcd + kube-apiserver on 127.0.0.1 for the whole session.

Tools: scripts/install-kube.sh (kube-apiserver and kubectl at the version pinned in scripts/kube/go.mod,
etcd from Debian). Missing tools skip the tier locally with the install command, and fail it with CI=true.
Teardown kills both processes and removes their data, certificates and keys; a leftover fails the session.
At session start, the control planes a killed run left are stopped (snipcheck.harness.spawned; shown as warnings).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from snipcheck.harness import spawned
from snipcheck.harness.kube import claim as kubeclaim
from snipcheck.harness.kube import controlplane as kubeapi
from snipcheck.harness.kube import journal as nodejournal
from snipcheck.harness.kube import process as kubeprocess
from support import require


@pytest.fixture(scope="session", autouse=True)
def reap_killed_runs() -> None:
    """Stop what a killed run's cluster tier left running (snipcheck.harness.spawned), before starting our own."""
    spawned.reap_and_warn()


@pytest.fixture(scope="session")
def kube_tools() -> kubeapi.Tools:
    problem = kubeapi.wait_for_background_build()  # a cold build runs beside the other tiers
    if problem:
        pytest.fail(problem, pytrace=False)
    tools, missing = kubeapi.find_tools()
    require(tools is not None, missing)
    assert tools is not None
    return tools


@pytest.fixture(scope="session")
def control_plane(kube_tools: kubeapi.Tools) -> Iterator[kubeapi.ControlPlane]:
    try:
        cp = kubeapi.ControlPlane.start(kube_tools)
    except kubeapi.KubeError as exc:
        pytest.fail(f"the control plane did not start: {exc}", pytrace=False)
    try:
        yield cp
    finally:
        workdir, pids = cp.workdir, cp.pids()
        cp.stop()  # raises if a process survives or the directory stays
        assert not workdir.exists(), f"{workdir} left behind"
        assert not [p for p in pids if kubeprocess.process_alive(p)], f"processes {pids} left behind"


@pytest.fixture
def node_lock() -> Iterator[nodejournal.HostLock]:
    """The host's node lock, held for the test (waiting, as a node would, for another run's node). A test
    that adds KUBE-* rules, `snipk8s` links or `kubepods` cgroups holds it while it does: a node of another
    run on this host would take them for its own and remove them, or refuse to start beside them."""
    lock = kubeclaim.wait_for_host_lock()
    try:
        yield lock
    finally:
        lock.release()
