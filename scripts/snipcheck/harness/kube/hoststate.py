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
import ipaddress
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

from .. import procid, saferm

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
CGROUP_NAMES = ("kubepods", "kubepods.slice")  # recorded and reported, never removed: any Kubernetes' Pods
# The node's own cgroup root, named after its work directory (kubenode: kubelet's cgroupRoot); the only
# cgroups restore removes
NODE_CGROUP = re.compile(r"snipcheck-node-[a-z0-9_]{8}")
# The tables iptables-nft creates on first use (kubelet's canary chains create `ip6 mangle`, `ip6 nat`,
# `ip6 filter` on a host where nothing used ip6tables before): once the node's rules are gone, a new one
# that holds no rule is the node's leftover; one that holds rules is someone else's (Docker's) and stays.
IPTABLES_TABLES = frozenset({"filter", "nat", "mangle", "raw", "security"})
# kube-proxy's nftables mode makes "table ip kube-proxy" and "table ip6 kube-proxy"; nothing else of the node
# is an nftables table of its own
NODE_NFT_TABLES = frozenset({"kube-proxy"})
SYSCTL_VALUE = re.compile(r"-?\d+(?:\s+-?\d+)*")
NFT_TABLE = re.compile(r"table (?:ip|ip6|inet|arp|bridge|netdev) [A-Za-z0-9_-]+")


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
    recorded_at: float = 0.0  # seconds after boot (procid.boot_seconds): what starts later may be the node's

    @classmethod
    def record(cls) -> HostState:
        at = procid.boot_seconds()
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
            for name in (*CGROUP_NAMES, "snipcheck-node-*")
            for pattern in (name, f"*/{name}")
            for d in CGROUP_ROOT.glob(pattern)
            if d.is_dir() and (d.name in CGROUP_NAMES or NODE_CGROUP.fullmatch(d.name))
        )  # v2: one hierarchy; v1: one per controller
        paths = frozenset(p for p in PATHS if os.path.lexists(p))
        nft = frozenset(_run("nft", "list", "tables").splitlines()) if shutil.which("nft") else frozenset()
        return cls(sysctls, iptables, links, netns, mounts, cgroups, paths, nft, at)

    def to_json(self) -> dict[str, object]:
        """The state as JSON values (sets as sorted lists), for a journal that outlives the process."""
        return {
            "sysctls": self.sysctls,
            "iptables": {cmd: sorted(map(list, rules)) for cmd, rules in self.iptables.items()},
            **{name: sorted(getattr(self, name)) for name in _SET_FIELDS},
            "recorded_at": self.recorded_at,
        }

    @classmethod
    def from_json(cls, data: object) -> HostState:
        """The inverse of to_json, for a journal: refuses (ValueError/TypeError/KeyError) anything the node
        cannot have recorded — a sysctl key outside SYSCTLS or a value that is not numbers, an iptables
        table or a directory the node does not know, a cgroup outside CGROUP_ROOT."""
        if not isinstance(data, dict):
            raise TypeError("the recorded state is not an object")
        sysctls, iptables = data["sysctls"], data["iptables"]
        if not isinstance(sysctls, dict) or not isinstance(iptables, dict):
            raise TypeError("sysctls and iptables must be objects")
        for key, value in sysctls.items():
            if key not in SYSCTLS:
                raise ValueError(f"sysctl {key!r} is not one the node changes ({', '.join(SYSCTLS)})")
            if not isinstance(value, str) or not SYSCTL_VALUE.fullmatch(value):
                raise ValueError(f"sysctl {key} = {value!r} is not a number (or numbers)")
        rules: dict[str, frozenset[tuple[str, str]]] = {}
        for cmd, lines in iptables.items():
            if cmd not in ("iptables", "ip6tables"):
                raise ValueError(f"{cmd!r} is not iptables or ip6tables")
            pairs = [_pair(item) for item in _as_list(lines)]
            if bad := sorted({t for t, _ in pairs} - IPTABLES_TABLES):
                raise ValueError(f"{cmd}: unknown tables {bad}")
            rules[cmd] = frozenset(pairs)
        sets = {name: frozenset(_strings(data[name], name)) for name in _SET_FIELDS}
        if unknown := sorted(sets["paths"] - set(PATHS)):
            raise ValueError(f"directories the node does not make: {unknown}")
        if foreign := sorted(c for c in sets["cgroups"] if not _node_cgroup(c)):
            raise ValueError(f"cgroups that are not a node's ({CGROUP_ROOT}/[*/]kubepods|snipcheck-node-*): {foreign}")
        if bad_nft := sorted(t for t in sets["nft_tables"] if not NFT_TABLE.fullmatch(t)):
            raise ValueError(f"not `nft list tables` lines: {bad_nft}")
        recorded_at = data["recorded_at"]
        if not isinstance(recorded_at, (int, float)) or recorded_at < 0:
            raise ValueError(f"recorded_at {recorded_at!r} is not seconds after boot")
        return cls(dict(sysctls), rules, **sets, recorded_at=float(recorded_at))

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


def _strings(value: object, what: str) -> list[str]:
    items = _as_list(value)
    if not all(isinstance(item, str) and "\0" not in item for item in items):
        raise TypeError(f"{what}: expected a list of strings")
    return items


def _pair(item: object) -> tuple[str, str]:
    table, rule = _strings(item, "an iptables rule")
    return table, rule


def _node_cgroup(path: str) -> bool:
    """CGROUP_ROOT/[<controller>/]kubepods or .../snipcheck-node-XXXXXXXX, as `record` finds them."""
    p = Path(path)
    named = p.name in CGROUP_NAMES or NODE_CGROUP.fullmatch(p.name) is not None
    return named and CGROUP_ROOT in (p.parent, p.parent.parent) and ".." not in p.parts


def cgroup_hierarchies() -> list[Path]:
    """The cgroup hierarchies to make a cgroup in: CGROUP_ROOT itself on a pure v2 host, else each mounted
    v1 hierarchy (and a hybrid host's unified one) under it, once each (cpu,cpuacct links count once)."""
    if (CGROUP_ROOT / "cgroup.procs").exists():
        return [CGROUP_ROOT]
    found: dict[Path, Path] = {}
    for d in sorted(CGROUP_ROOT.iterdir()):
        if d.is_dir() and (d / "cgroup.procs").exists():
            found.setdefault(d.resolve(), d)
    return list(found.values())


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
    """Links of a node: its bridge (`snipk8s…`, named by snipcheck.harness.kube.node) and the Pods' veth ends on it.
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


def _name(workdir: Path | None) -> str:
    return workdir.name if workdir is not None else "<its work directory's name>"


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
        if workdir is not None and Path(cgroup).name == workdir.name:
            done += _remove_cgroup(Path(cgroup), before.recorded_at)
        else:  # not this node's root: another Kubernetes' Pods, or another node run's
            done.append(f"left cgroup {cgroup}: not this node's (its Pods live under /{_name(workdir)})")
    for key, value in before.sysctls.items():
        if key not in SYSCTLS:  # from_json refuses them already: never a path outside /proc/sys
            continue
        path = _sysctl_path(key)
        try:
            if path.read_text().strip() != value:
                path.write_text(value)
                done.append(f"sysctl {key} = {value} again")
        except OSError as exc:
            done.append(f"could not restore sysctl {key}: {exc}")
    for created in sorted(now.paths - before.paths, key=len, reverse=True):
        path = Path(created)
        try:
            if path.is_dir() and not path.is_symlink():
                saferm.remove_tree(path)  # never through a mount point
            else:
                path.unlink(missing_ok=True)
            done.append(f"removed {created}")
        except OSError as exc:
            done.append(f"could not remove {created}: {exc}")
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


def _remove_nft_table(line: str) -> list[str]:
    """Delete a table that appeared since the node started (`nft list tables` line: "table ip6 mangle"):
    kube-proxy's own (NODE_NFT_TABLES) whatever it holds, an iptables-nft table only when it holds no
    rule. Any other new table (firewalld's, libvirt's, podman's) is someone else's: left, and reported by
    HostState.differences."""
    _, family, name = line.split()
    if name not in NODE_NFT_TABLES and (name not in IPTABLES_TABLES or _nft_holds_rules(family, name)):
        return []
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


def _remove_cgroup(top: Path, since: float) -> list[str]:
    """rmdir a cgroup tree bottom-up (a v1 cgroup directory holds only kernel files once empty). Processes
    still in it (a Pod's, when its node was killed) are killed first when they are the node's: they
    started after `since` (seconds after boot, when the host was recorded before the node). Older ones
    are someone else's: left alone and named."""
    dirs = sorted((d for d in top.rglob("*") if d.is_dir()), key=lambda d: len(d.parts), reverse=True)
    foreign = _kill_members([*dirs, top], since)
    for d in [*dirs, top]:
        with contextlib.suppress(OSError):  # still in use: reported by HostState.differences
            d.rmdir()
    done = [] if top.exists() else [f"removed cgroup {top}"]
    if foreign:
        done.append(f"left processes in {top} that started before the node: {', '.join(map(str, foreign))}")
    return done


def _kill_members(cgroups: list[Path], since: float, grace: float = 10) -> list[int]:
    """SIGKILL the processes of these cgroups that started after `since` (each checked by its start time,
    and killed only while it is still that process), wait until they are gone; returns the older ones."""
    victims, foreign = [], []
    for d in cgroups:
        for pid in _members(d):
            ident, started = procid.ProcId.of(pid), procid.started_seconds(pid)
            if ident is None or started is None:
                continue
            (victims if started + 1 >= since else foreign).append(ident)
    for ident in victims:
        if ident.is_alive():
            with contextlib.suppress(OSError):
                os.kill(ident.pid, signal.SIGKILL)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(ident.is_alive() for ident in victims):
        time.sleep(0.2)
    return sorted(ident.pid for ident in foreign)


def _members(cgroup: Path) -> list[int]:
    try:
        return [int(x) for x in (cgroup / "cgroup.procs").read_text().split()]
    except OSError:
        return []


# Programs of a Kubernetes node or a container engine with CNI networking: while one of them runs that is
# not this project's node, the KUBE-*/CNI-* rules, kubepods cgroups and /var/lib/kubelet are (also) theirs.
FOREIGN_PROGRAMS = frozenset(
    {"kubelet", "kube-proxy", "k3s", "k3s-server", "k3s-agent", "k0s", "crio", "conmon", "netavark"}
)


def foreign_kubernetes(workdir: Path | None = None) -> list[str]:
    """Running programs of another Kubernetes or CNI user ("pid N: cmdline"): FOREIGN_PROGRAMS whose
    working directory and command line are not in `workdir` (a killed node's own, which recovery kills)."""
    prefix = f"{workdir}/" if workdir is not None else None
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            program = (proc / "exe").readlink().name.removesuffix(" (deleted)")
            if program not in FOREIGN_PROGRAMS:
                continue
            cwd = f"{(proc / 'cwd').readlink()}/"
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if prefix is not None and (cwd.startswith(prefix) or prefix in cmdline):
            continue
        found.append(f"pid {proc.name}: {cmdline[:120]}")
    return found


def route_overlaps(cidrs: list[str]) -> list[str]:
    """Routes and addresses of the host that overlap `cidrs` (the node's pod and Service ranges), from
    `ip -j route` and `ip -j addr`: taking the ranges would divert the host's traffic into the node."""
    wanted = [ipaddress.ip_network(c) for c in cidrs]
    found = []
    for route in json.loads(_run("ip", "-j", "route", "show", "table", "all") or "[]"):
        dst = route.get("dst", "")
        if dst in ("default", "") or ":" in dst:
            continue
        with contextlib.suppress(ValueError):
            net = ipaddress.ip_network(dst, strict=False)
            found += [f"route {dst} dev {route.get('dev', '?')} overlaps {w}" for w in wanted if net.overlaps(w)]
    for link in json.loads(_run("ip", "-j", "addr", "show") or "[]"):
        for addr in link.get("addr_info", []):
            if addr.get("family") != "inet":
                continue
            net = ipaddress.ip_network(f"{addr['local']}/{addr['prefixlen']}", strict=False)
            found += [
                f"address {addr['local']}/{addr['prefixlen']} on {link.get('ifname')} overlaps {w}"
                for w in wanted
                if net.overlaps(w)
            ]
    return found
