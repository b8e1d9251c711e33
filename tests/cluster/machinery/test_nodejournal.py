"""snipcheck.harness.kube.journal: a node whose run was killed is put back by the next run, and only one node
runs per network namespace.

The recovery test plays a killed run: it records the host and writes the journal as Node.start does,
then leaves what a node leaves when nobody stops it (a KUBE-* chain with a rule jumping to it, a
`snipk8s…` bridge, a changed sysctl, a server still running in the work directory) and never cleans
up itself except in `finally`. `recover()` must kill the server, put the host back, remove the work
directory and the journal, and say what it did. Root only (iptables, links, sysctls).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hostplay import SYSCTL, sh

from snipcheck.harness import privatedir, saferm
from snipcheck.harness.kube import claim as kubeclaim
from snipcheck.harness.kube import hoststate
from snipcheck.harness.kube import journal as nodejournal
from snipcheck.harness.kube import node as kubenode
from support import require

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(120)]


def _program(tmp_path: Path, name: str) -> Path:
    """A copy of sleep(1) named like one of the node's programs (the recovery kills programs by name)."""
    copy = tmp_path / "bin" / name
    copy.parent.mkdir(exist_ok=True)
    shutil.copy2(shutil.which("sleep") or "/bin/sleep", copy)
    return copy


def test_recover_puts_back_what_a_killed_node_left(tmp_path: Path, node_lock: nodejournal.HostLock) -> None:
    require(os.geteuid() == 0 and shutil.which("iptables") is not None, "needs root and iptables (as the node does)")
    tag = secrets.token_hex(2)
    chain, bridge = f"KUBE-SNIPTEST-{tag}", f"{hoststate.BRIDGE_PREFIX}{tag}"
    journal = privatedir.ensure(tmp_path / "state") / "node.json"
    kubelet = _program(tmp_path, "kubelet")
    # canaries: a node program that started before the node (someone else's), and a program that is not
    # the node's sitting in its work directory (a user's shell): recovery leaves both alone
    older = subprocess.Popen([str(kubelet), "600"], start_new_session=True)
    workdir = Path(tempfile.mkdtemp(prefix=nodejournal.WORKDIR_PREFIX))
    time.sleep(1.1)  # start times have 1/100 s resolution; the node's processes start after its journal
    before = hoststate.HostState.record()
    old = SYSCTL.read_text().strip()
    server = shell = None
    try:
        nodejournal.write(workdir, before, journal)
        time.sleep(1.1)
        # what the killed run's node left behind
        sh("iptables", "-w", "-N", chain)
        sh("iptables", "-w", "-A", "FORWARD", "-j", chain)
        sh("ip", "link", "add", bridge, "type", "bridge")
        SYSCTL.write_text(str(int(old) + 1))
        server = subprocess.Popen([str(kubelet), "600"], cwd=workdir, start_new_session=True)
        shell = subprocess.Popen(["sleep", "600"], cwd=workdir, start_new_session=True)
        assert any(chain in r for r in hoststate.kubernetes_rules()), "the jump to the chain is a rule in force"

        loaded = nodejournal.load(journal)
        assert loaded is not None
        done = nodejournal.recover(loaded)

        text = "\n".join(done)
        assert server.wait(timeout=15) == -signal.SIGKILL, f"the server in the work directory still runs:\n{text}"
        assert f"killed pid {server.pid}" in text, text
        assert shell.poll() is None and older.poll() is None, f"recovery killed a process not the node's:\n{text}"
        assert hoststate.HostState.record().differences(before) == [], text
        assert SYSCTL.read_text().strip() == old
        assert not workdir.exists() and not journal.exists(), text
        assert not any(chain in r for r in hoststate.kubernetes_rules())
        assert nodejournal.load(journal) is None, "a second recovery has nothing left to do"
    finally:
        for proc in (server, shell, older):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        sh("ip", "link", "delete", bridge, check=False)
        sh("iptables", "-w", "-D", "FORWARD", "-j", chain, check=False)
        sh("iptables", "-w", "-X", chain, check=False)
        SYSCTL.write_text(old)
        saferm.remove_tree(workdir)


def test_a_journal_planted_by_another_user_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    """C1 of the security review: a journal an ordinary user wrote (here: chowned to nobody) in root's
    place is refused before anything is read from it; the sysctl it names keeps its value and the
    directory it names stays."""
    require(os.geteuid() == 0, "needs root (to give the planted file to another user)")
    state = privatedir.ensure(tmp_path / "state")
    workdir = Path(tempfile.mkdtemp(prefix=nodejournal.WORKDIR_PREFIX))
    try:
        (workdir / "canary").write_text("kept")
        nodejournal.write(workdir, hoststate.HostState.record(), state / "node.json")
        data = json.loads((state / "node.json").read_text())
        data["before"]["sysctls"] = {"kernel.keys.root_maxkeys": str(int(SYSCTL.read_text()) + 7)}
        (state / "node.json").write_text(json.dumps(data))
        os.chown(state / "node.json", 65534, 65534)
        value = SYSCTL.read_text()
        with pytest.raises(nodejournal.JournalError, match="belongs to uid 65534.*Nothing was changed"):
            nodejournal.load(state / "node.json")
        assert SYSCTL.read_text() == value and (workdir / "canary").exists()
    finally:
        saferm.remove_tree(workdir)


def test_state_survives_the_journal() -> None:
    state = hoststate.HostState.record()
    assert hoststate.HostState.from_json(json.loads(json.dumps(state.to_json()))) == state


def test_one_node_per_network_namespace_and_a_killed_holder_frees_it() -> None:
    """The lock is an abstract socket name: held by another process (here a child that takes it), it
    refuses; once that process is killed (SIGKILL: no clean-up runs), it can be taken at once."""
    name = f"\0snipcheck-test-{secrets.token_hex(4)}".encode()  # not the nodes' lock: runs may be up
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import socket, sys, time; s = socket.socket(socket.AF_UNIX); "
            f"s.bind({name!r}); print('held', flush=True); time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    lock = nodejournal.HostLock(name)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert not lock.acquire(), "a second node was allowed while another process holds the lock"
        holder.kill()
        holder.wait(timeout=10)
        assert lock.acquire(), "the lock stayed taken after its holder was killed"
    finally:
        lock.release()
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)


def test_someone_elses_kubernetes_rules_stop_the_node_before_it_changes_anything(
    node_lock: nodejournal.HostLock,
) -> None:
    """A KUBE-* rule in force that no journal explains is someone else's cluster: claiming the host (what
    Node.start does with the lock) refuses with HostInUse (the fixture skips locally, fails in CI), makes
    no work directory and releases the lock. An empty chain nothing jumps to (a dead cluster's leftover)
    is inert and does not count."""
    require(os.geteuid() == 0 and shutil.which("iptables") is not None, "needs root and iptables (as the node does)")
    chain = f"KUBE-SNIPTEST-{secrets.token_hex(2)}"
    workdirs = set(Path(tempfile.gettempdir()).glob(f"{nodejournal.WORKDIR_PREFIX}*"))
    try:
        sh("iptables", "-w", "-N", chain)
        assert not any(chain in r for r in hoststate.kubernetes_rules()), "an empty, unreferenced chain counted"
        sh("iptables", "-w", "-A", "FORWARD", "-j", chain)
        with pytest.raises(kubeclaim.HostInUse, match=chain):
            kubeclaim.claim_host(node_lock, kubenode.NODE_RANGES)
        assert not node_lock.held, "the lock stayed held after the refusal: every later node would wait"
        assert set(Path(tempfile.gettempdir()).glob(f"{nodejournal.WORKDIR_PREFIX}*")) == workdirs
    finally:
        sh("iptables", "-w", "-D", "FORWARD", "-j", chain, check=False)
        sh("iptables", "-w", "-X", chain, check=False)


def test_restore_kills_what_still_runs_in_the_nodes_cgroups(node_lock: nodejournal.HostLock, tmp_path: Path) -> None:
    """A killed node's Pods may outlive their shims; their cgroup tree (kubelet's cgroupRoot, named after
    the node's work directory) is the node's, so restore kills its processes before removing it. A new
    `kubepods` beside it is not the node's (another Kubernetes' Pods, review H1): left alone and named."""
    require(os.geteuid() == 0, "needs root (cgroups)")
    top = next(
        (d for d in (hoststate.CGROUP_ROOT / "pids", hoststate.CGROUP_ROOT) if (d / "cgroup.procs").exists()), None
    )
    require(top is not None, f"no writable cgroup hierarchy under {hoststate.CGROUP_ROOT}")
    workdir = Path(tempfile.mkdtemp(prefix=nodejournal.WORKDIR_PREFIX, dir=tmp_path))
    cgroup, foreign = top / workdir.name, top / "kubepods"
    pod = foreign_pod = None
    # a canary: a process older than the node, moved into the cgroup (another Kubernetes' Pod would be
    # such): it is not the node's, so it is left alone and named
    older = subprocess.Popen(["sleep", "600"], start_new_session=True)
    time.sleep(1.1)
    try:
        require(not foreign.exists(), f"{foreign} exists already (another Kubernetes on this host?)")
        before = hoststate.HostState.record()
        time.sleep(1.1)
        (cgroup / "kubepods" / "burstable").mkdir(parents=True)
        (foreign / "besteffort").mkdir(parents=True)
        pod = subprocess.Popen(["sleep", "600"], start_new_session=True)
        foreign_pod = subprocess.Popen(["sleep", "600"], start_new_session=True)
        (cgroup / "kubepods" / "burstable" / "cgroup.procs").write_text(str(pod.pid))
        (cgroup / "kubepods" / "burstable" / "cgroup.procs").write_text(str(older.pid))
        (foreign / "besteffort" / "cgroup.procs").write_text(str(foreign_pod.pid))

        done = hoststate.restore(before, workdir)

        assert pod.wait(timeout=15) == -signal.SIGKILL, f"the Pod's process survived: {done}"
        assert older.poll() is None, f"restore killed a process that started before the node: {done}"
        assert f"started before the node: {older.pid}" in "\n".join(done), done
        assert foreign_pod.poll() is None and foreign.is_dir(), f"restore took another Kubernetes' Pods: {done}"
        assert f"left cgroup {foreign}: not this node's" in "\n".join(done), done
        older.kill()
        older.wait(timeout=10)
        done = hoststate.restore(before, workdir)  # the canary gone, the empty cgroup goes too
        assert not cgroup.exists() and f"removed cgroup {cgroup}" in done, done
    finally:
        for proc in (pod, older, foreign_pod):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        time.sleep(0.2)
        for d in (cgroup / "kubepods" / "burstable", cgroup / "kubepods", cgroup, foreign / "besteffort", foreign):
            with contextlib.suppress(OSError):
                d.rmdir()


def test_a_stop_that_leaves_something_keeps_the_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, node_lock: nodejournal.HostLock
) -> None:
    """Node.stop removes the journal only when the host is put back; when something is left (here: a
    kernel module the node loaded that cannot be unloaded, through a stand-in `modprobe` that fails),
    the journal stays for the next node's start, and stop releases the lock all the same."""
    require(os.geteuid() == 0, f"needs root (the journal lives in {privatedir.STATE_DIR})")
    require(
        not nodejournal.JOURNAL.exists(), f"a killed run's journal is waiting to be recovered: {nodejournal.JOURNAL}"
    )
    fake = tmp_path / "bin" / "modprobe"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    workdir, before, _ = kubeclaim.claim_host(node_lock, kubenode.NODE_RANGES)  # journal written, lock still held
    node = kubenode.Node(tools=None, workdir=workdir, before=before, loaded_br_netfilter=True, lock=node_lock)  # type: ignore[arg-type]
    try:
        node.stop(check=False)
        assert nodejournal.JOURNAL.exists(), "the journal went although the node left something behind"
        assert not node_lock.held
        node.loaded_br_netfilter = False
        assert node_lock.acquire()
        node.lock = node_lock
        node.stop(check=False)
        assert not nodejournal.JOURNAL.exists(), "the journal stayed although the host is put back"
    finally:
        nodejournal.remove()
        saferm.remove_tree(workdir)


def test_another_kubernetes_running_stops_the_node_before_any_recovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, node_lock: nodejournal.HostLock
) -> None:
    """H1 of the security review: with a journal waiting and another Kubernetes' kubelet running (a copy
    of sleep named kubelet, outside the journal's work directory), claiming the host refuses with
    HostInUse before the recovery removes anything: the journal and its work directory stay."""
    require(os.geteuid() == 0, "needs root (the node's journal is root's)")
    monkeypatch.setattr(nodejournal, "JOURNAL", privatedir.ensure(tmp_path / "state") / "node.json")
    workdir = Path(tempfile.mkdtemp(prefix=nodejournal.WORKDIR_PREFIX))
    foreign = subprocess.Popen([str(_program(tmp_path, "kubelet")), "600"], start_new_session=True)
    try:
        (workdir / "canary").write_text("kept")
        nodejournal.write(workdir, hoststate.HostState.record())
        with pytest.raises(kubeclaim.HostInUse, match=f"pid {foreign.pid}"):
            kubeclaim.claim_host(node_lock, kubenode.NODE_RANGES)
        assert nodejournal.JOURNAL.exists() and (workdir / "canary").exists(), "recovery ran beside a foreign node"
        assert foreign.poll() is None
    finally:
        foreign.kill()
        foreign.wait(timeout=10)
        saferm.remove_tree(workdir)


def test_ranges_the_host_already_routes_stop_the_node(node_lock: nodejournal.HostLock) -> None:
    """M4: a host address inside the Service range (a VPN's, say; here on a bridge of the test's
    own) is found, so the node does not take the range over it."""
    require(os.geteuid() == 0, "needs root (a link)")
    link = f"snipt{secrets.token_hex(2)}"
    assert hoststate.route_overlaps([kubenode.POD_SUBNET]) == [], "the host uses the pod range already"
    try:
        sh("ip", "link", "add", link, "type", "bridge")
        sh("ip", "addr", "add", "10.96.200.1/24", "dev", link)
        found = hoststate.route_overlaps([kubenode.SERVICE_CIDR])
        assert any(f"address 10.96.200.1/24 on {link} overlaps {kubenode.SERVICE_CIDR}" == f for f in found), found
    finally:
        sh("ip", "link", "delete", link, check=False)
