"""What a Kubernetes node changes on its host, recorded before it starts and put back after it stops.

kubelet, kube-proxy, containerd's CRI and the CNI plugins change machine-wide state while they run:
sysctls (kubelet sets vm.overcommit_memory, kernel.panic, kernel.panic_on_oops, ...), iptables chains
and rules (KUBE-*, CNI-*), network links (the bridge, veth pairs), network namespaces (/run/netns/cni-*),
mounts, cgroups (`kubepods` in every v1 hierarchy) and directories (/var/lib/cni, /run/containerd/s,
/var/log/containers, ...). `HostState.record()` notes all of that; `restore(before)` removes only what
is new and of the node's kinds — never the Docker engine's rules, links or mounts, which other tests
change at the same time — and `differences(before)` lists whatever is still not as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

# kubelet (pkg/kubelet/cm/container_manager_linux.go setupKernelTunables) and kube-proxy (conntrack,
# route_localnet) write these; the bridge needs the last three.
SYSCTLS = (
    "vm.overcommit_memory",
    "vm.panic_on_oom",
    "kernel.panic",
    "kernel.panic_on_oops",
    "kernel.keys.root_maxkeys",
    "kernel.keys.root_maxbytes",
    "net.ipv4.conf.all.route_localnet",
    "net.netfilter.nf_conntrack_max",
    "net.netfilter.nf_conntrack_tcp_timeout_established",
    "net.netfilter.nf_conntrack_tcp_timeout_close_wait",
    "net.ipv4.ip_forward",
    "net.bridge.bridge-nf-call-iptables",
    "net.bridge.bridge-nf-call-ip6tables",
)
# Directories a node creates outside its own work directory when they do not exist yet.
PATHS = (
    "/var/lib/cni",
    "/run/containerd",
    "/var/log/containers",
    "/var/log/pods",
    "/var/lib/kubelet",
    "/etc/kubernetes",
    "/run/netns",
    "/var/run/nri",
)
NODE_CHAIN = re.compile(r"\b(?:KUBE|CNI)-[A-Za-z0-9-]+\b")
CGROUP_ROOT = Path("/sys/fs/cgroup")
BRIDGE_PREFIX = "snipk8s"
CGROUP_NAMES = ("kubepods", "kubepods.slice")


def _run(*args: str) -> str:
    res = subprocess.run(list(args), capture_output=True, text=True, timeout=60)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {res.returncode}: {res.stderr.strip()}")
    return res.stdout


def _sysctl_path(key: str) -> Path:
    return Path("/proc/sys") / key.replace(".", "/")


def _iptables_rules(save: str) -> set[tuple[str, str]]:
    """(table, line) of every chain declaration and rule in `iptables-save` output."""
    rules: set[tuple[str, str]] = set()
    table = ""
    for line in save.splitlines():
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith((":", "-A ")):
            # a chain's packet counters change all the time: keep its name only
            rules.add((table, line.split()[0] if line.startswith(":") else line))
    return rules


@dataclass(frozen=True)
class HostState:
    sysctls: dict[str, str]
    iptables: dict[str, frozenset[tuple[str, str]]]  # per command (iptables, ip6tables)
    links: frozenset[str]  # the node's kind only: its bridge and the veths enslaved to it
    netns: frozenset[str]
    mounts: frozenset[str]
    cgroups: frozenset[str]
    paths: frozenset[str]
    nft_tables: frozenset[str]

    @classmethod
    def record(cls) -> HostState:
        sysctls = {}
        for key in SYSCTLS:
            try:
                sysctls[key] = _sysctl_path(key).read_text().strip()
            except OSError:
                continue  # not on this kernel
        iptables = {
            cmd: frozenset(_iptables_rules(_run(f"{cmd}-save")))
            for cmd in ("iptables", "ip6tables")
            if shutil.which(cmd)
        }
        links = frozenset(_node_links())
        run_netns = Path("/run/netns")
        netns = frozenset(p.name for p in run_netns.iterdir()) if run_netns.is_dir() else frozenset()
        mounts = frozenset(line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines())
        cgroups = frozenset(
            str(d)
            for name in CGROUP_NAMES
            for pattern in (name, f"*/{name}")
            for d in CGROUP_ROOT.glob(pattern)
            if d.is_dir()
        )  # v2: one hierarchy; v1: one per controller
        paths = frozenset(p for p in PATHS if os.path.lexists(p))
        nft = frozenset(_run("nft", "list", "tables").splitlines()) if shutil.which("nft") else frozenset()
        return cls(sysctls, iptables, links, netns, mounts, cgroups, paths, nft)

    def to_json(self) -> dict[str, object]:
        """The state as JSON values (sets as sorted lists), for a journal that outlives the process."""
        return {
            "sysctls": self.sysctls,
            "iptables": {cmd: sorted(map(list, rules)) for cmd, rules in self.iptables.items()},
            **{name: sorted(getattr(self, name)) for name in _SET_FIELDS},
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> HostState:
        """The inverse of to_json; KeyError/TypeError/ValueError on anything else."""
        sysctls = data["sysctls"]
        iptables = data["iptables"]
        if not isinstance(sysctls, dict) or not isinstance(iptables, dict):
            raise TypeError("sysctls and iptables must be objects")
        return cls(
            {str(k): str(v) for k, v in sysctls.items()},
            {str(cmd): frozenset((str(t), str(r)) for t, r in _as_list(rules)) for cmd, rules in iptables.items()},
            **{name: frozenset(map(str, _as_list(data[name]))) for name in _SET_FIELDS},
        )

    def differences(self, before: HostState, workdir: Path | None = None) -> list[str]:
        """What is not as it was in `before`, for the node's kinds of state (one line each)."""
        out = [
            f"sysctl {k} = {self.sysctls.get(k)} (was {v})"
            for k, v in before.sysctls.items()
            if self.sysctls.get(k) != v
        ]
        for cmd, rules in self.iptables.items():
            new = rules - before.iptables.get(cmd, frozenset())
            out += [f"{cmd} -t {t}: {r}" for t, r in sorted(new) if NODE_CHAIN.search(r)]
        out += [f"network link {n}" for n in sorted(self.links - before.links)]
        out += [f"network namespace /run/netns/{n}" for n in sorted(self.netns - before.netns) if n.startswith("cni-")]
        out += [f"mount {m}" for m in sorted(self.mounts - before.mounts) if _node_mount(m, workdir)]
        out += [f"cgroup {c}" for c in sorted(self.cgroups - before.cgroups)]
        out += [f"directory {p}" for p in sorted(self.paths - before.paths)]
        out += [f"nftables {t}" for t in sorted(self.nft_tables - before.nft_tables)]
        return out


_SET_FIELDS = ("links", "netns", "mounts", "cgroups", "paths", "nft_tables")


def _as_list(value: object) -> list:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, found {type(value).__name__}")
    return value


def kubernetes_rules() -> list[str]:
    """Rules (not bare chain declarations) that name a KUBE-* or CNI-* chain, from iptables and ip6tables:
    a Kubernetes node's networking that is in force. An empty chain nothing jumps to is inert."""
    found = []
    for cmd in ("iptables", "ip6tables"):
        if shutil.which(cmd):
            found += [
                f"{cmd} -t {t}: {r}"
                for t, r in sorted(_iptables_rules(_run(f"{cmd}-save")))
                if r.startswith("-A ") and NODE_CHAIN.search(r)
            ]
    return found


def _node_links() -> list[str]:
    """Links of a node: its bridge (`snipk8s…`, named by snipcheck.kubenode) and the Pods' veth ends on it.
    Docker's veths look alike (`veth…`) and appear while other tests run: only the bridge's own count."""
    out = []
    for line in _run("ip", "-o", "link", "show").splitlines():
        fields = line.split()
        name = fields[1].rstrip(":").split("@")[0]
        master = fields[fields.index("master") + 1] if "master" in fields else ""
        if name.startswith(BRIDGE_PREFIX) or master.startswith(BRIDGE_PREFIX):
            out.append(name)
    return out


def _node_mount(point: str, workdir: Path | None) -> bool:
    """Mounts of a node: under its work directory (kubelet's volumes, containerd's snapshots and shm) and
    the CNI network namespaces. Not /run/containerd/...: a system containerd (Docker's on many hosts)
    mounts its containers there while other tests run."""
    return point.startswith("/run/netns/cni-") or (workdir is not None and point.startswith(f"{workdir}/"))


def restore(before: HostState, workdir: Path | None = None) -> list[str]:
    """Put back what a stopped node changed since `before`; returns what it did (one line each).
    Only state of the node's kinds is touched, and only what is new since `before`."""
    done: list[str] = []
    now = HostState.record()
    # mounts first (deepest first), then network namespaces, links, firewall, cgroups, sysctls, paths
    for point in sorted(now.mounts - before.mounts, key=len, reverse=True):
        if _node_mount(point, workdir) and subprocess.run(["umount", "-l", point], capture_output=True).returncode == 0:
            done.append(f"unmounted {point}")
    for ns in sorted(n for n in now.netns - before.netns if n.startswith("cni-")):
        subprocess.run(["ip", "netns", "delete", ns], capture_output=True)
        done.append(f"deleted network namespace {ns}")
    links = sorted(set(_node_links()) - before.links, key=lambda n: n.startswith(BRIDGE_PREFIX))  # veths first
    for link in links:
        if subprocess.run(["ip", "link", "delete", link], capture_output=True).returncode == 0:
            done.append(f"deleted link {link}")
    for cmd, rules in now.iptables.items():
        done += _restore_iptables(cmd, before.iptables.get(cmd, frozenset()), rules)
    for table in sorted(now.nft_tables - before.nft_tables):
        done += _remove_nft_table(table)
    for cgroup in sorted(now.cgroups - before.cgroups):
        done += _remove_cgroup(Path(cgroup))
    for key, value in before.sysctls.items():
        path = _sysctl_path(key)
        try:
            if path.read_text().strip() != value:
                path.write_text(value)
                done.append(f"sysctl {key} = {value} again")
        except OSError as exc:
            done.append(f"could not restore sysctl {key}: {exc}")
    for created in sorted(now.paths - before.paths, key=len, reverse=True):
        path = Path(created)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        done.append(f"removed {created}")
    return done


def _restore_iptables(cmd: str, before: frozenset[tuple[str, str]], now: frozenset[tuple[str, str]]) -> list[str]:
    """Delete the node's new rules (those naming KUBE-/CNI- chains), then its new chains."""
    done = []
    for table, rule in sorted(now - before):
        if rule.startswith("-A ") and NODE_CHAIN.search(rule):
            args = shlex.split(rule)
            if subprocess.run([cmd, "-w", "-t", table, "-D", *args[1:]], capture_output=True).returncode == 0:
                done.append(f"{cmd} -t {table} -D {' '.join(args[1:])}")
    chains = [(t, r[1:]) for t, r in sorted(now - before) if r.startswith(":") and NODE_CHAIN.fullmatch(r[1:])]
    for table, chain in chains:
        subprocess.run([cmd, "-w", "-t", table, "-F", chain], capture_output=True)
    for table, chain in chains:
        if subprocess.run([cmd, "-w", "-t", table, "-X", chain], capture_output=True).returncode == 0:
            done.append(f"{cmd} -t {table} -X {chain}")
    return done


# The tables iptables-nft creates on first use (kubelet's canary chains create `ip6 mangle`, `ip6 nat`,
# `ip6 filter` on a host where nothing used ip6tables before): once the node's rules are gone, a new one
# that holds no rule is the node's leftover; one that holds rules is someone else's (Docker's) and stays.
IPTABLES_TABLES = frozenset({"filter", "nat", "mangle", "raw", "security"})


def _remove_nft_table(line: str) -> list[str]:
    """Delete a table that appeared since the node started (`nft list tables` line: "table ip6 mangle"):
    a table of its own (kube-proxy's nftables mode, "table ip kube-proxy") whatever it holds, an
    iptables-nft table only when it holds no rule."""
    _, family, name = line.split()
    if name in IPTABLES_TABLES and _nft_holds_rules(family, name):
        return []  # reported by HostState.differences if it is still new
    res = subprocess.run(["nft", "delete", "table", family, name], capture_output=True, text=True)
    if res.returncode != 0:
        return [f"could not delete nftables {line}: {res.stderr.strip()}"]
    return [f"deleted nftables {line}"]


def _nft_holds_rules(family: str, name: str) -> bool:
    """Whether the table holds a rule; True when nft cannot say (an nft without JSON output, say): such a
    table is kept and reported rather than deleted with someone else's rules in it."""
    res = subprocess.run(["nft", "-j", "list", "table", family, name], capture_output=True, text=True)
    if res.returncode != 0:
        return "No such file or directory" not in res.stderr  # gone already: nothing to keep
    try:
        items = json.loads(res.stdout).get("nftables", [])
    except ValueError:
        return True
    return any("rule" in item for item in items)


def _remove_cgroup(top: Path) -> list[str]:
    """rmdir a cgroup tree bottom-up (a v1 cgroup directory holds only kernel files once empty). Processes
    still in it (a Pod's, when its node was killed) are killed first: the tree is the node's own."""
    dirs = sorted((d for d in top.rglob("*") if d.is_dir()), key=lambda d: len(d.parts), reverse=True)
    _kill_members([*dirs, top])
    for d in [*dirs, top]:
        with contextlib.suppress(OSError):  # still in use: reported by HostState.differences
            d.rmdir()
    return [] if top.exists() else [f"removed cgroup {top}"]


def _kill_members(cgroups: list[Path], grace: float = 10) -> None:
    """SIGKILL the processes of these cgroups (v2: cgroup.kill; v1: each pid in cgroup.procs) and wait
    until the cgroups are empty."""
    for d in cgroups:
        if (d / "cgroup.kill").exists():
            with contextlib.suppress(OSError):
                (d / "cgroup.kill").write_text("1")
        else:
            for pid in _members(d):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_members(d) for d in cgroups):
        time.sleep(0.2)


def _members(cgroup: Path) -> list[int]:
    try:
        return [int(x) for x in (cgroup / "cgroup.procs").read_text().split()]
    except OSError:
        return []
