"""snipcheck.harness.kube.hoststate sees what a node leaves on the host and puts back exactly that.

The test plays the node: a KUBE-* chain with a rule jumping to it, a `snipk8s…` bridge with a veth
enslaved to it, a kubepods-like sysctl change (kernel.keys.root_maxkeys, a harmless limit); then
`differences` must list each, `restore` must remove each, and a Docker-like veth that is not on the
bridge (created at the same time, as compose tests do beside the node) must be left alone; the same
for the nftables tables a node creates.
Root only (iptables, links, sysctls); everything it makes is removed in `finally` as well.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
from hostplay import SYSCTL, sh

from snipcheck.harness.kube import hoststate
from snipcheck.harness.kube import journal as nodejournal
from support import require

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(120)]


def test_restore_puts_back_only_what_the_node_added(node_lock: nodejournal.HostLock) -> None:
    require(os.geteuid() == 0 and shutil.which("iptables") is not None, "needs root and iptables (as the node does)")
    tag = secrets.token_hex(2)
    chain, bridge = f"KUBE-SNIPTEST-{tag}", f"{hoststate.BRIDGE_PREFIX}{tag}"
    veth, peer, other = f"vethsnip{tag}", f"vsnippeer{tag}", f"vethdock{tag}"
    before = hoststate.HostState.record()
    old = SYSCTL.read_text().strip()
    try:
        sh("iptables", "-w", "-N", chain)
        sh("iptables", "-w", "-A", chain, "-j", "RETURN")
        sh("iptables", "-w", "-N", f"CNI-SNIPTEST-{tag}")
        sh("iptables", "-w", "-A", f"CNI-SNIPTEST-{tag}", "-j", chain)
        sh("ip", "link", "add", bridge, "type", "bridge")
        sh("ip", "link", "add", veth, "type", "veth", "peer", "name", peer)
        sh("ip", "link", "set", veth, "master", bridge)
        sh("ip", "link", "add", other, "type", "veth", "peer", "name", f"{other}p")  # a Docker-like veth
        SYSCTL.write_text(str(int(old) + 1))

        diffs = hoststate.HostState.record().differences(before)
        text = "\n".join(diffs)
        for expected in (chain, f"CNI-SNIPTEST-{tag}", f"network link {bridge}", f"network link {veth}"):
            assert expected in text, f"{expected!r} not reported among the differences:\n{text}"
        assert f"sysctl kernel.keys.root_maxkeys = {int(old) + 1} (was {old})" in diffs
        assert other not in text, f"a veth that is not on the node's bridge was reported:\n{text}"

        done = hoststate.restore(before)
        assert hoststate.HostState.record().differences(before) == [], done
        assert SYSCTL.read_text().strip() == old
        links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
        assert f" {other}@" in links, "restore deleted a veth that was not the node's"
    finally:
        sh("ip", "link", "delete", other, check=False)
        sh("ip", "link", "delete", veth, check=False)
        sh("ip", "link", "delete", bridge, check=False)
        for name in (f"CNI-SNIPTEST-{tag}", chain):
            sh("iptables", "-w", "-F", name, check=False)
        for name in (f"CNI-SNIPTEST-{tag}", chain):
            sh("iptables", "-w", "-X", name, check=False)
        SYSCTL.write_text(old)


def test_restore_deletes_the_tables_the_node_created(node_lock: nodejournal.HostLock) -> None:
    """On a host where nothing used ip6tables before, kubelet's canary chains create the iptables-nft
    tables `ip6 mangle`, `ip6 nat` and `ip6 filter`; kube-proxy's nftables mode a table of its own
    (`kube-proxy`). Once the node's rules are gone, such new tables go too; a new iptables table holding
    someone else's rule stays, and so does any other new table (firewalld's, libvirt's: review H1)."""
    require(os.geteuid() == 0 and shutil.which("ip6tables") and shutil.which("nft"), "needs root, ip6tables and nft")
    existing = set(subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout.splitlines())
    absent = [t for t in ("raw", "security") if f"table ip6 {t}" not in existing]
    require(len(absent) == 2, f"needs the ip6 tables raw and security absent, as on a fresh host (present: {existing})")
    require("table ip6 kube-proxy" not in existing, "a kube-proxy nftables table exists: another Kubernetes?")
    tag = secrets.token_hex(2)
    node_table, foreign_table, own, other = absent[0], absent[1], "kube-proxy", f"snipt-{tag}"
    before = hoststate.HostState.record()
    try:
        sh("ip6tables", "-w", "-t", node_table, "-N", f"KUBE-SNIPTEST-{tag}")  # creates table ip6 <node_table>
        sh("ip6tables", "-w", "-t", node_table, "-A", "OUTPUT", "-j", f"KUBE-SNIPTEST-{tag}")
        sh("ip6tables", "-w", "-t", foreign_table, "-A", "OUTPUT", "-j", "ACCEPT")  # not the node's rule
        sh("nft", "add", "table", "ip6", own)
        sh("nft", "add", "chain", "ip6", own, "probe")
        sh("nft", "add", "rule", "ip6", own, "probe", "counter")
        sh("nft", "add", "table", "ip6", other)  # a firewall's table, made while the node ran

        text = "\n".join(hoststate.HostState.record().differences(before))
        for table in (node_table, foreign_table, own, other):
            assert f"nftables table ip6 {table}" in text, f"new table ip6 {table} not reported:\n{text}"

        done = hoststate.restore(before)
        left = hoststate.HostState.record().differences(before)
        assert left == sorted([f"nftables table ip6 {foreign_table}", f"nftables table ip6 {other}"]), done
    finally:
        for table in (node_table, foreign_table, own, other):
            sh("nft", "delete", "table", "ip6", table, check=False)


def test_a_table_nft_cannot_describe_is_kept(tmp_path: Path, monkeypatch) -> None:
    """An nft that cannot list a table as JSON (built without it, say) must not make restore delete an
    iptables table that may hold someone else's rules: it is kept (and reported as still new)."""
    calls = tmp_path / "calls"
    fake = tmp_path / "nft"
    fake.write_text(
        f'#!/bin/sh\necho "$@" >> {calls}\n'
        'case "$1" in -j) echo "Error: JSON support not compiled-in" >&2; exit 1;; esac\nexit 0\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    assert hoststate._remove_nft_table("table ip6 mangle") == []
    assert hoststate._remove_nft_table("table ip kube-proxy") == ["deleted nftables table ip kube-proxy"]
    assert hoststate._remove_nft_table("table inet firewalld") == [], "someone else's table was deleted"
    assert calls.read_text().splitlines() == ["-j list table ip6 mangle", "delete table ip kube-proxy"]
