"""A real one-node Kubernetes cluster on this machine, for the cluster tier's node tests (opt-in).

Pieces, all pinned and built by scripts/install-kube.sh with SNIPCHECK_NODE=1:
- a bridge `snipk8s<hex>` with the node's address (10.244.0.1/24): a network of this run. The API
  server listens there (Pods reach it through the `kubernetes` Service), kubelet serves there;
- etcd + kube-apiserver (kubeapi.ControlPlane on that address), kube-controller-manager, kube-scheduler;
- a second containerd (Debian's, the binary Docker's engine runs) with CRI enabled, its own config,
  socket, root and state in the work directory; Docker's containerd is not touched;
- CNI from Debian's containernetworking-plugins: bridge + host-local (IPs kept in the work directory)
  + firewall (Docker sets FORWARD to DROP; the plugin admits the Pods' traffic);
- kubelet (cgroupfs driver, cgroup v1 allowed, root dir and Pod logs in the work directory, every Pod's
  cgroup under /<the work directory's name>: that tree alone is the node's to remove);
- kube-proxy (iptables mode, conntrack sysctls left alone, NodePorts on the bridge address only);
- CoreDNS as the cluster DNS Deployment behind the Service 10.96.0.10;
- a pause image built from Kubernetes' own pause.c.

Images get into the node with `ctr images import` from `docker save` tars. `Node.stop()` deletes the
Pods through the API (so CNI tears their networks down), stops every process, and hoststate.restore()
puts back what the node changed on the host; a difference that stays is an error.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ...model.paths import kube_cache_dir
from .. import saferm, waiting
from . import hoststate
from . import journal as nodejournal
from .claim import claim_host, wait_for_host_lock
from .controlplane import SERVICE_CIDR, ControlPlane, KubectlResult, Tools
from .coredns import coredns_manifest, coredns_version
from .images import _scratch_image, qualified_image
from .process import KubeError, Proc, free_port, group_alive, openssl, spawn, tail

NODE_ENV = "SNIPCHECK_NODE"
POD_SUBNET = "10.244.0.0/24"
NODE_IP = "10.244.0.1"
CLUSTER_DNS = "10.96.0.10"
NODE_NAME = "snipcheck-node"
NODE_RANGES = (POD_SUBNET, SERVICE_CIDR)  # taken by the node: refused when the host routes them
PAUSE_IMAGE = "snipcheck.local/pause:3.10.1"
COREDNS_IMAGE = "snipcheck.local/coredns:{version}"
CNI_BIN = Path("/usr/lib/cni")
READY_S = 120.0
NODE_BINARIES = ("kubelet", "kube-scheduler", "kube-proxy", "coredns", "pause")
INSTALL_HINT = (
    "run: SNIPCHECK_NODE=1 bash scripts/install-kube.sh (kubelet, kube-scheduler, kube-proxy, CoreDNS, pause)"
)


def wanted() -> bool:
    return os.environ.get(NODE_ENV) == "1"


def missing_tools() -> str:
    """Empty when everything the node needs is here, else what is missing and how to get it."""
    missing = [n for n in NODE_BINARIES if not os.access(kube_cache_dir() / n, os.X_OK)]
    missing += [
        f"{CNI_BIN}/{p}" for p in ("bridge", "host-local", "firewall", "loopback") if not (CNI_BIN / p).exists()
    ]
    missing += [t for t in ("containerd", "ctr", "runc", "iptables", "ip") if not shutil.which(t)]
    if subprocess.run(["dpkg", "-s", "busybox-static"], capture_output=True).returncode != 0:
        missing.append("busybox-static (the client Pod's tools)")
    if os.geteuid() != 0:
        missing.append("root (the node changes cgroups, network links and iptables)")
    if missing:
        return f"missing {', '.join(missing)} - {INSTALL_HINT}"
    return ""


@dataclass
class Node:
    tools: Tools
    workdir: Path
    before: hoststate.HostState
    bridge: str = field(default_factory=lambda: f"{hoststate.BRIDGE_PREFIX}{secrets.token_hex(2)}")
    cp: ControlPlane | None = None
    procs: list[Proc] = field(default_factory=list)
    containerd_sock: Path = Path()
    timings: dict[str, float] = field(default_factory=dict)
    restored: list[str] = field(default_factory=list)
    loaded_br_netfilter: bool = False
    lock: nodejournal.HostLock | None = None  # held until stop()
    recovered: list[str] = field(default_factory=list)  # what start() put back after a killed run's node

    # ---- lifecycle -------------------------------------------------------------------------------

    @classmethod
    def start(cls, tools: Tools) -> Node:
        """Start a node once no other run's node is up (see claim_host)."""
        # One node per network namespace: kube-proxy's chains, the pod subnet and the Service route are
        # shared, so a second run (another clone, another container on the host network) waits here.
        lock = wait_for_host_lock()
        workdir, before, recovered = claim_host(lock, NODE_RANGES)
        node = cls(tools, workdir, before, lock=lock, recovered=recovered)
        try:
            node._start()
        except BaseException:
            node.stop(check=False)
            raise
        return node

    def _start(self) -> None:
        t0 = time.monotonic()
        self._bridge_netfilter()
        self._ip("link", "add", self.bridge, "type", "bridge")
        self._ip("addr", "add", f"{NODE_IP}/24", "dev", self.bridge)
        self._ip("link", "set", self.bridge, "up")
        # Service IPs lead to the bridge even before kube-proxy's rules exist: never out of the machine
        self._ip("route", "add", SERVICE_CIDR, "dev", self.bridge)
        cert, key = self._kubelet_client_pki()
        self.cp = ControlPlane.start(
            self.tools,
            parent=self.workdir,
            address=NODE_IP,
            extra_args=[
                f"--kubelet-client-certificate={cert}",
                f"--kubelet-client-key={key}",
                "--kubelet-preferred-address-types=InternalIP",
            ],
        )
        self.timings["control_plane_s"] = self.cp.startup_seconds
        self.cp.start_controller_manager()
        self._spawn(
            "kube-scheduler",
            [
                str(kube_cache_dir() / "kube-scheduler"),
                f"--kubeconfig={self.cp.kubeconfig}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                f"--secure-port={free_port()}",
            ],  # fmt: skip
        )
        self._start_containerd()
        self._import_pause()
        self._start_kubelet()
        self._start_kube_proxy()
        self._start_coredns()
        self.timings["node_ready_s"] = time.monotonic() - t0

    def _bridge_netfilter(self) -> None:
        """kube-proxy's rules must see traffic between Pods on the same bridge (a Pod -> Service -> Pod
        reply is un-NATed there): br_netfilter with bridge-nf-call-iptables = 1. hoststate puts the
        sysctl back afterwards; a module that cannot be loaded is an error naming it."""
        knob = Path("/proc/sys/net/bridge/bridge-nf-call-iptables")
        if not knob.exists():
            subprocess.run(["modprobe", "br_netfilter"], capture_output=True, timeout=30)
            self.loaded_br_netfilter = knob.exists()  # stop() unloads it again
            if self.loaded_br_netfilter:  # and so does the next run's recovery, if this one is killed
                nodejournal.write(self.workdir, self.before, modules=frozenset({"br_netfilter"}))
        if not knob.exists():
            raise KubeError("the br_netfilter module is not loaded and `modprobe br_netfilter` failed")
        if knob.read_text().strip() != "1":
            knob.write_text("1")

    def _kubelet_client_pki(self) -> tuple[Path, Path]:
        """A CA that kubelet trusts for client certificates, and the API server's client cert signed by it
        (for logs, exec and port-forward; kubelet refuses anonymous requests)."""
        pki = self.workdir / "pki"
        pki.mkdir(mode=0o700)
        ca, key, crt = pki / "ca", pki / "apiserver-kubelet-client.key", pki / "apiserver-kubelet-client.crt"
        new_key = ("req", "-newkey", "rsa:2048", "-nodes")
        openssl(*new_key, "-x509", "-days", "1", "-subj", "/CN=snipcheck-kubelet-ca",
                      "-keyout", f"{ca}.key", "-out", f"{ca}.crt")  # fmt: skip
        openssl(*new_key, "-subj", "/O=system:masters/CN=kube-apiserver",
                      "-keyout", str(key), "-out", str(pki / "client.csr"))  # fmt: skip
        openssl("x509", "-req", "-in", str(pki / "client.csr"), "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
                      "-CAcreateserial", "-days", "1", "-out", str(crt))  # fmt: skip
        return crt, key

    def _start_containerd(self) -> None:
        w = self.workdir / "containerd"
        (w / "cni").mkdir(parents=True)
        self.containerd_sock = w / "containerd.sock"
        (w / "cni" / "10-snipcheck.conflist").write_text(
            json.dumps(
                {
                    "cniVersion": "1.0.0",
                    "name": "snipcheck",
                    "plugins": [
                        {
                            "type": "bridge",
                            "bridge": self.bridge,
                            "isGateway": True,
                            "ipMasq": False,  # Pods talk to each other and to the node only
                            "hairpinMode": True,  # a Pod reaches itself through its Service
                            "ipam": {
                                "type": "host-local",
                                "ranges": [[{"subnet": POD_SUBNET, "gateway": NODE_IP}]],
                                "routes": [{"dst": "0.0.0.0/0"}],  # Service IPs are routed via the node
                                "dataDir": str(w / "ipam"),
                            },
                        },
                        {"type": "firewall", "backend": "iptables"},
                    ],
                }
            )
        )
        config = f"""version = 2
root = "{w / "root"}"
state = "{w / "state"}"
[grpc]
  address = "{self.containerd_sock}"
[ttrpc]
  address = "{w / "containerd.sock.ttrpc"}"
[plugins."io.containerd.internal.v1.opt"]
  path = "{w / "opt"}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{w / "runc"}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN}"
    conf_dir = "{w / "cni"}"
"""
        (w / "config.toml").write_text(config)
        proc = self._spawn("containerd", ["containerd", "--config", str(w / "config.toml"), "--log-level", "warn"])
        waiting.until(
            lambda: self._alive(proc) and self.ctr("version", check=False).returncode == 0,
            timeout=30,
            what="the node's containerd",
        )

    def ctr(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        res = subprocess.run(
            ["ctr", "--address", str(self.containerd_sock), "--namespace", "k8s.io", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and res.returncode != 0:
            raise KubeError(f"ctr {' '.join(args)} exited {res.returncode}: {res.stderr.strip()}")
        return res

    def import_image(self, tar: Path, name: str) -> None:
        """Import a `docker save` tar (one image) and name it `name` in the node's image store.

        The tar may carry another name (the image kit's snipcheck.local/postgres:16-alpine for
        postgres:16-alpine): the node's containerd is the suite's own store, so the image is tagged there
        with the name the Pods use, fully qualified as the kubelet looks it up (docker.io/library/...)."""
        out = self.ctr("images", "import", "--all-platforms=false", str(tar)).stdout
        # "unpacking docker.io/library/x:tag (sha256:...)...done"
        refs = [line.split()[1] for line in out.splitlines() if line.startswith("unpacking ")]
        if not refs:
            raise KubeError(f"ctr images import {tar}: no image in its output: {out!r}")
        for wanted in dict.fromkeys((name, qualified_image(name))):
            if refs[0] != wanted:
                self.ctr("images", "tag", "--force", refs[0], wanted)

    def import_binary(self, binary: Path, name: str, entrypoint: list[str]) -> None:
        """A one-layer image holding `binary` at /<its name>, named `name` in the node's image store."""
        self.import_image(_scratch_image(self.workdir, binary, f"/{binary.name}", entrypoint), name)

    def _import_pause(self) -> None:
        """The pause image: Kubernetes' pause.c built by install-kube.sh, as a one-layer image."""
        self.import_binary(kube_cache_dir() / "pause", PAUSE_IMAGE, ["/pause"])

    def _cgroup_root(self) -> str:
        """The cgroup every Pod of this node lives under, named after its work directory (review H1): a
        restore or a recovery removes that tree and nothing else — never another Kubernetes' `kubepods`.
        kubelet requires it to exist: it is made in every hierarchy (v1: one per controller; cpuset's
        cpus and mems copied from the root, as a new cpuset cgroup starts with none)."""
        name = self.workdir.name
        for hierarchy in hoststate.cgroup_hierarchies():
            d = hierarchy / name
            with contextlib.suppress(FileExistsError):
                d.mkdir()
            for key in ("cpuset.cpus", "cpuset.mems"):
                if (d / key).exists() and not (d / key).read_text().strip():
                    (d / key).write_text((hierarchy / key).read_text())
        return f"/{name}"

    def _start_kubelet(self) -> None:
        w = self.workdir / "kubelet"
        w.mkdir()
        (w / "resolv.conf").write_text("")  # Pods get the cluster DNS only; nothing outside is a target
        config = {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "address": NODE_IP,
            "port": free_port(),
            "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1",
            "healthzPort": free_port(),
            "authentication": {
                "anonymous": {"enabled": False},
                "webhook": {"enabled": True},
                "x509": {"clientCAFile": str(self.workdir / "pki" / "ca.crt")},
            },
            # what a client may do on kubelet's API (logs, exec, port-forward...) is the API server's decision
            # (SubjectAccessReview): its client certificate is system:masters, anything else gets nothing
            "authorization": {"mode": "Webhook"},
            "cgroupDriver": "cgroupfs",
            "cgroupRoot": self._cgroup_root(),  # the node's Pods only under /<work directory's name>
            "failCgroupV1": False,  # this machine runs cgroup v1
            "failSwapOn": False,
            "containerRuntimeEndpoint": f"unix://{self.containerd_sock}",
            "clusterDNS": [CLUSTER_DNS],
            "clusterDomain": "cluster.local",
            "resolvConf": str(w / "resolv.conf"),
            "podLogsDir": str(w / "pod-logs"),
            "imageGCHighThresholdPercent": 100,
            "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
            "serializeImagePulls": False,
        }
        (w / "config.json").write_text(json.dumps(config))
        self._spawn(
            "kubelet",
            [
                str(kube_cache_dir() / "kubelet"),
                f"--config={w / 'config.json'}",
                f"--kubeconfig={self.cp_().kubeconfig}",
                f"--root-dir={w / 'root'}",
                f"--cert-dir={w / 'pki'}",
                f"--hostname-override={NODE_NAME}",
                f"--node-ip={NODE_IP}",
            ],
        )
        t0 = time.monotonic()
        self.wait_for("node Ready", lambda: self._node_ready(), READY_S)
        self.timings["kubelet_ready_s"] = time.monotonic() - t0

    def _node_ready(self) -> bool:
        res = self.cp_().kubectl("get", "node", NODE_NAME, "-o", "json")
        if res.returncode != 0:
            return False
        conds = json.loads(res.stdout).get("status", {}).get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)

    def _start_kube_proxy(self) -> None:
        self._spawn(
            "kube-proxy",
            [
                str(kube_cache_dir() / "kube-proxy"),
                f"--kubeconfig={self.cp_().kubeconfig}",
                f"--hostname-override={NODE_NAME}",
                "--proxy-mode=iptables",
                f"--cluster-cidr={POD_SUBNET}",
                # leave the host's conntrack settings and route_localnet alone
                "--conntrack-max-per-core=0",
                "--conntrack-tcp-timeout-established=0",
                "--conntrack-tcp-timeout-close-wait=0",
                "--iptables-localhost-nodeports=false",
                # NodePorts answer on the node's bridge address only, not on every address of the host
                f"--nodeport-addresses={NODE_IP}/32",
                f"--metrics-bind-address=127.0.0.1:{free_port()}",
                f"--healthz-bind-address=127.0.0.1:{free_port()}",
            ],
        )

    def _start_coredns(self) -> None:
        version = coredns_version()
        image = COREDNS_IMAGE.format(version=version)
        self.import_binary(kube_cache_dir() / "coredns", image, ["/coredns", "-conf", "/etc/coredns/Corefile"])
        res = self.cp_().kubectl("apply", "-f", "-", stdin=coredns_manifest(image, CLUSTER_DNS))
        if res.returncode != 0:
            raise KubeError(f"CoreDNS manifest refused:\n{res.describe()}")
        t0 = time.monotonic()
        res = self.cp_().kubectl(
            "rollout",
            "status",
            "deployment/coredns",
            "-n",
            "kube-system",
            f"--timeout={READY_S:.0f}s",
            timeout=READY_S + 10,
        )
        if res.returncode != 0:
            raise KubeError(f"CoreDNS did not become available:\n{res.describe()}\n{self.logs()}")
        self.timings["coredns_ready_s"] = time.monotonic() - t0

    # ---- helpers ---------------------------------------------------------------------------------

    def cp_(self) -> ControlPlane:
        assert self.cp is not None, "the control plane is not started"
        return self.cp

    def kubectl(self, *args: str, stdin: str | None = None, timeout: float = 120) -> KubectlResult:
        return self.cp_().kubectl(*args, stdin=stdin, timeout=timeout)

    def wait_for(self, what: str, ok: Callable[[], object], timeout: float) -> None:
        """Poll `ok()`; a node process exiting or the deadline raises with the logs."""

        def check() -> bool:
            for p in self.procs:
                if (why := p.died()) is not None:
                    raise waiting.Abort(why)
            return bool(ok())

        try:
            waiting.until(check, timeout=timeout, what=what, interval=0.5)
        except (waiting.Abort, waiting.WaitTimeout) as exc:
            raise KubeError(f"{exc}\n{self.logs()}") from None

    def _spawn(self, name: str, args: list[str]) -> Proc:
        proc = spawn(self.workdir, name, args)
        self.procs.append(proc)
        return proc

    @staticmethod
    def _alive(proc: Proc) -> bool:
        if (why := proc.died()) is not None:
            raise waiting.Abort(why)
        return True

    def _ip(self, *args: str) -> None:
        res = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
        if res.returncode != 0:
            raise KubeError(f"ip {' '.join(args)}: {res.stderr.strip()}")

    def logs(self, lines: int = 15) -> str:
        own = "\n".join(f"--- {p.name} ---\n{tail(p.log, lines)}" for p in self.procs)
        return own + ("\n" + self.cp.logs(lines) if self.cp else "")

    def pids(self) -> list[int]:
        return [p.popen.pid for p in self.procs] + (self.cp.pids() if self.cp else [])

    # ---- teardown --------------------------------------------------------------------------------

    def stop(self, check: bool = True) -> None:
        """Delete every Pod through the API (CNI releases its network), stop the processes, put the host
        back as it was. With `check`, raise if anything differs from before the node started."""
        problems: list[str] = []
        if self.cp is not None and any(p.name == "kubelet" and p.popen.poll() is None for p in self.procs):
            self._delete_pods(problems)
        for name in ("kube-proxy", "kubelet"):
            self._stop_proc(name)
        if self.containerd_sock.exists():
            self._remove_containers()
        for proc in reversed(self.procs):
            self._stop_proc(proc.name)
        # (not `kube-proxy --cleanup`: it removes every KUBE-* rule, not only this node's; hoststate removes
        # exactly the rules that appeared since the node started)
        if self.cp is not None:
            try:
                self.cp.stop()
            except KubeError as exc:
                problems.append(str(exc))
        subprocess.run(["ip", "link", "delete", self.bridge], capture_output=True)
        self.restored = hoststate.restore(self.before, self.workdir)
        if (
            self.loaded_br_netfilter
            and subprocess.run(["modprobe", "-r", "br_netfilter"], capture_output=True).returncode
        ):
            problems.append("could not unload br_netfilter, which the node loaded (modprobe -r br_netfilter)")
        try:
            saferm.remove_tree(self.workdir, unmount=True)  # kubelet's volumes may still be mounted there
        except OSError as exc:
            problems.append(f"could not remove {self.workdir}: {exc}")
        left = hoststate.HostState.record().differences(self.before, self.workdir)
        problems += [f"left on the host: {d}" for d in left]
        problems += [f"process group {p.name} still running" for p in self.procs if group_alive(p.popen.pid)]
        if self.workdir.exists():
            problems.append(f"could not remove {self.workdir}")
        if not problems:
            nodejournal.remove()  # the host is put back; otherwise the next node's start tries again
        if self.lock is not None:
            self.lock.release()
        if problems and check:
            raise KubeError("the node did not leave the host as it found it:\n" + "\n".join(problems))

    def _delete_pods(self, problems: list[str]) -> None:
        """Delete the namespaces of the tests and CoreDNS, then wait until kubelet has no Pod left."""
        cp = self.cp_()
        res = cp.kubectl("get", "namespaces", "-o", "jsonpath={.items[*].metadata.name}")
        system = {"default", "kube-system", "kube-public", "kube-node-lease"}
        for ns in set(res.stdout.split()) - system:
            cp.kubectl("delete", "namespace", ns, "--wait=false")
        cp.kubectl("delete", "deployment", "--all", "-n", "kube-system", "--wait=false")
        cp.kubectl("delete", "pods", "--all", "-n", "default", "--wait=false")
        try:
            self.wait_for(
                "every Pod deleted",
                lambda: cp.kubectl("get", "pods", "-A", "-o", "name").stdout.strip() == "",
                timeout=90,
            )
            # the Pods are gone from the API; kubelet stops their sandboxes (CNI DEL) right after
            self.wait_for(
                "every Pod sandbox stopped",
                lambda: "READY" not in self.ctr("tasks", "ls", check=False).stdout.replace("STATUS", ""),
                timeout=30,
            )
        except KubeError as exc:
            problems.append(f"Pods not deleted cleanly: {exc}")

    def _remove_containers(self) -> None:
        """Kill and delete whatever containers are left (a failed run), so their shims exit."""
        for line in self.ctr("tasks", "ls", "-q", check=False).stdout.split():
            self.ctr("tasks", "kill", "--signal", "SIGKILL", line, check=False, timeout=30)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self.ctr("tasks", "ls", "-q", check=False).stdout.strip():
            for line in self.ctr("tasks", "ls", "-q", check=False).stdout.split():
                self.ctr("tasks", "delete", "--force", line, check=False, timeout=30)
            time.sleep(0.5)
        for line in self.ctr("containers", "ls", "-q", check=False).stdout.split():
            self.ctr("containers", "delete", line, check=False, timeout=30)

    def _stop_proc(self, name: str) -> None:
        for proc in self.procs:
            if proc.name == name:
                proc.stop(grace=20)  # kubelet and containerd may take a while
