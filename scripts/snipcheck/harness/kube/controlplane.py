"""A throw-away Kubernetes control plane on 127.0.0.1: etcd + kube-apiserver, and kubectl against it.

The binaries come from scripts/install-kube.sh: kube-apiserver and kubectl built from the
k8s.io/kubernetes version that scripts/kube/go.mod requires, cached by version in a machine-wide
directory; etcd from Debian's etcd-server package. `ControlPlane` starts both with data, certificates
and keys in one temporary directory (mode 0700), waits for /readyz, writes a kubeconfig, and `stop()`
kills both process groups and removes the directory (it raises if anything is left).

Nothing in it is open to another local user:
- etcd listens on Unix sockets in that directory only, for clients and for its (absent) peers: no TCP
  port, so only the directory's owner (and root) can reach it;
- kube-apiserver (a free loopback port; another one if it is taken by the time it binds) authenticates
  every request (--anonymous-auth=false) and authorizes with Node,RBAC: the test client's token is in
  system:masters, a Pod's ServiceAccount gets what RBAC grants it (nothing, unless bound).
Each process is recorded in snipcheck.harness.spawned's registry and gets a parent-death signal: a killed run's
control plane is stopped by the run's death or, at the latest, by the next run's session start.

    with ControlPlane.start(find_tools()) as cp:
        cp.kubectl("apply", "--server-side", "--dry-run=server", "-f", "deployment.yaml")
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ...model.paths import BUILD, kube_cache_dir, kube_version, rel
from .. import background, saferm, spawned, waiting
from .process import KubeError, Proc, free_port, group_alive, openssl, spawn, tail, unix_http_get

INSTALL_HINT = (
    "run: bash scripts/install-kube.sh (builds kube-apiserver, kube-controller-manager, kubectl; "
    "long on a cold Go cache, then cached)"
)
READY_DEADLINE_S = 60.0
SERVICE_CIDR = "10.96.0.0/16"
# etcd 3.4 takes a unix URL's host:port as the socket's file name, relative to its working directory (the
# work directory): unix://etcd-client:2379 is <workdir>/etcd-client:2379. No path is allowed in the URL.
# kube-apiserver (its etcd client) reads the same URL relative to its own working directory, the same
# one: so a deep work directory never meets the 107-byte limit of a socket path.
ETCD_CLIENT_SOCKET = "etcd-client:2379"
ETCD_PEER_SOCKET = "etcd-peer:2380"
API_PORT_ATTEMPTS = 4
BUILT = ("kube-apiserver", "kube-controller-manager", "kubectl")  # by install-kube.sh


@dataclass(frozen=True)
class Tools:
    version: str
    kube_apiserver: Path
    kubectl: Path
    etcd: Path
    kube_controller_manager: Path


BACKGROUND_PID = BUILD / "install-kube.pid"  # snipcheck.harness.background's record of setup.sh's build
BACKGROUND_STATUS = BUILD / "install-kube.status"
BACKGROUND_LOG = BUILD / "install-kube.log"
BACKGROUND_MARKER = background.KUBE_BUILD_MARKER  # what the build's command line holds


def wait_for_background_build(timeout: float = 3600) -> str:
    """scripts/setup.sh may build the binaries in the background while other tiers run: wait until it
    has finished. Returns "" when there was none or it succeeded, else what went wrong with its log.
    Only the process BACKGROUND_PID records is waited for (snipcheck.harness.background: same boot, pid, start
    time and command line, as scripts/test.sh checks it); a stale record is reported, never waited for."""

    def status_problem() -> str:
        if not BACKGROUND_STATUS.exists():
            return ""
        status = BACKGROUND_STATUS.read_text().strip()
        if status != "0":
            log = rel(BACKGROUND_LOG)
            return f"scripts/install-kube.sh failed in the background (exit {status}); {log}:\n{tail(BACKGROUND_LOG)}"
        return ""

    if not BACKGROUND_PID.exists() or BACKGROUND_STATUS.exists():
        return status_problem()
    job, why = background.check(BACKGROUND_PID, BACKGROUND_MARKER)
    if job is None:
        return (
            f"no background build of the Kubernetes binaries is running ({why}) and none wrote "
            f"{rel(BACKGROUND_STATUS)}: it ended without writing it, or the record is stale from a killed run; "
            f"build them with: bash scripts/install-kube.sh\n{tail(BACKGROUND_LOG)}"
        )
    leader = job

    def finished() -> bool:
        if BACKGROUND_STATUS.exists():
            return True
        if not leader.is_alive():
            raise waiting.Abort(
                f"the background build (pid {leader.pid}) ended without writing {rel(BACKGROUND_STATUS)}"
            )
        return False

    try:
        waiting.until(finished, timeout=timeout, what="the background build of the Kubernetes binaries", interval=2)
    except (waiting.Abort, waiting.WaitTimeout) as exc:
        return f"{exc}\n{tail(BACKGROUND_LOG)}"
    return status_problem()


def find_tools() -> tuple[Tools | None, str]:
    """The pinned binaries, or None and what is missing (with how to get it).

    They are executed as root (the node tests), so they are used only from a cache that no one else can
    write: the cache's kube/ and kube/<version>/ directories must belong to the effective user and not be
    writable by group or others (a symlink is refused), and every executable in kube/<version>/ must have
    the sha256 install-kube.sh recorded in its SHA256SUMS when it built it. Checked before anything there
    runs; a refused cache raises KubeError naming the path and what to do. A cache without SHA256SUMS (an
    older install-kube.sh) counts as missing: install-kube.sh rebuilds it."""
    import hashlib  # here, not at the top: only this function needs them
    import stat

    version = kube_version()
    where = kube_cache_dir(version)
    sums_file = where / "SHA256SUMS"
    uid = os.geteuid()
    remedy = (
        f"remove it and rebuild (rm -rf --one-file-system {where}; bash scripts/install-kube.sh), or, if you trust "
        "what it holds, "
        f"make it yours alone (chown -R {uid} {where.parent} && chmod -R go-w {where.parent})"
    )

    def refuse_unless_private(path: Path, kind: int) -> None:
        st = path.lstat()
        if stat.S_IFMT(st.st_mode) != kind:
            problem = f"is a {'symlink' if stat.S_ISLNK(st.st_mode) else 'different kind of file'}"
        elif st.st_uid != uid:
            problem = f"belongs to uid {st.st_uid}, not to uid {uid} that runs the tests"
        elif st.st_mode & 0o022:
            problem = f"is writable by group or others (mode {stat.S_IMODE(st.st_mode):o})"
        else:
            return
        raise KubeError(
            f"{path} {problem}: the Kubernetes binaries there run as root, and another user could have swapped "
            f"them; {remedy}"
        )

    if not where.is_dir():
        return None, f"missing {', '.join(BUILT)} {version} (no {where}) - {INSTALL_HINT}"
    for d in (where.parent, where):
        refuse_unless_private(d, stat.S_IFDIR)
    executables = sorted(
        p for p in where.iterdir() if not p.name.startswith(".") and os.access(p, os.X_OK) and not p.is_dir()
    )
    missing = [f"{n} {version} (looked in {where})" for n in BUILT if where / n not in executables]
    if not missing and not sums_file.exists():
        missing = [f"{where / 'SHA256SUMS'} (the binaries there were built by an older install-kube.sh: not used)"]
    if not missing:
        refuse_unless_private(sums_file, stat.S_IFREG)
        recorded: dict[str, str] = {}
        for line in sums_file.read_text(encoding="utf-8").splitlines():
            digest, _, name = line.partition("  ")
            recorded[name] = digest
        for path in executables:
            refuse_unless_private(path, stat.S_IFREG)
            if path.name not in recorded:
                raise KubeError(f"{path}: not listed in {sums_file} (install-kube.sh did not build it); {remedy}")
            with path.open("rb") as f:
                have = hashlib.file_digest(f, "sha256").hexdigest()
            if have != recorded[path.name]:
                raise KubeError(
                    f"{path}: sha256 {have}, but {sums_file} records {recorded[path.name]} (changed since "
                    f"install-kube.sh built it); {remedy}"
                )
    etcd = shutil.which("etcd")
    missing += [] if etcd else ["etcd (not on PATH)"]
    if missing:
        return None, f"missing {'; '.join(missing)} - {INSTALL_HINT}"
    assert etcd is not None
    return Tools(
        version, where / "kube-apiserver", where / "kubectl", Path(etcd), where / "kube-controller-manager"
    ), ""


@dataclass
class KubectlResult:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def describe(self) -> str:
        return (
            f"`kubectl {' '.join(self.args)}` exited {self.returncode} after {self.seconds:.2f}s\n"
            f"--- stdout ---\n{self.stdout[-3000:]}\n--- stderr ---\n{self.stderr[-3000:]}"
        )


@dataclass
class ControlPlane:
    tools: Tools
    workdir: Path
    procs: list[Proc] = field(default_factory=list)
    api_port: int = 0
    kubeconfig: Path = Path()
    startup_seconds: float = 0.0
    server_version: str = ""
    address: str = "127.0.0.1"  # where the API server listens and what it advertises

    # ---- lifecycle -----------------------------------------------------------------------------

    @classmethod
    def start(
        cls, tools: Tools, parent: Path | None = None, address: str = "127.0.0.1", extra_args: Sequence[str] = ()
    ) -> ControlPlane:
        """Start etcd and kube-apiserver with their files in a new directory under `parent` (default: TMPDIR).
        `address`: the API server's listen and advertise address (a node's Pods need one they can reach)."""
        workdir = Path(tempfile.mkdtemp(prefix="snipcheck-kubeapi-", dir=parent))
        cp = cls(tools, workdir, address=address)
        try:
            cp._start(extra_args)
        except BaseException:
            cp.stop()
            raise
        return cp

    def __enter__(self) -> ControlPlane:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, name: str, args: Sequence[str]) -> Proc:
        proc = spawn(self.workdir, name, args, record_workdir=True)
        self.procs.append(proc)
        return proc

    @property
    def etcd_socket(self) -> Path:
        return self.workdir / ETCD_CLIENT_SOCKET

    def _start(self, extra_args: Sequence[str]) -> None:
        t0 = time.monotonic()
        w = self.workdir
        etcd_url, peer_url = f"unix://{ETCD_CLIENT_SOCKET}", f"unix://{ETCD_PEER_SOCKET}"
        etcd = self._spawn(
            "etcd",
            [
                str(self.tools.etcd),
                "--name",
                "snipcheck",
                "--data-dir",
                str(w / "etcd"),
                "--listen-client-urls",
                etcd_url,
                "--advertise-client-urls",
                etcd_url,
                "--listen-peer-urls",
                peer_url,
                "--initial-advertise-peer-urls",
                peer_url,
                "--initial-cluster",
                f"snipcheck={peer_url}",
                "--logger",
                "zap",
                "--log-level",
                "warn",
            ],
        )
        self._wait_for(
            etcd,
            f"{self.etcd_socket} /health",
            lambda: unix_http_get(self.etcd_socket, "/health"),
            lambda body: '"health":"true"' in body.replace(" ", ""),
        )

        # Service-account signing key pair, and a static token for kubectl.
        sa_key, sa_pub = w / "sa.key", w / "sa.pub"
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(sa_key))
        openssl("pkey", "-in", str(sa_key), "-pubout", "-out", str(sa_pub))
        token = secrets.token_hex(16)
        (w / "tokens.csv").write_text(f'{token},snipcheck,snipcheck,"system:masters"\n', encoding="utf-8")
        (w / "tokens.csv").chmod(0o600)

        for attempt in range(1, API_PORT_ATTEMPTS + 1):
            self.api_port = free_port()
            api = self._spawn(
                "kube-apiserver",
                [
                    str(self.tools.kube_apiserver),
                    f"--etcd-servers={etcd_url}",  # relative to its working directory, the work directory
                    f"--bind-address={self.address}",
                    f"--advertise-address={self.address}",
                    f"--secure-port={self.api_port}",
                    f"--cert-dir={w / 'certs'}",
                    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                    f"--service-account-key-file={sa_pub}",
                    f"--service-account-signing-key-file={sa_key}",
                    # every request authenticated; the token below is system:masters, Pods get what RBAC gives
                    "--anonymous-auth=false",
                    "--authorization-mode=Node,RBAC",
                    f"--token-auth-file={w / 'tokens.csv'}",
                    # a loopback advertise address is refused for the `kubernetes` Endpoints
                    *(["--endpoint-reconciler-type=none"] if self.address.startswith("127.") else []),
                    f"--service-cluster-ip-range={SERVICE_CIDR}",
                    "--enable-priority-and-fairness=false",
                    *extra_args,
                ],
            )
            url = f"https://{self.address}:{self.api_port}"
            try:
                self._wait(api, f"{url}/readyz", lambda body: body.strip() == "ok", token=token)
                break
            except KubeError:
                if attempt == API_PORT_ATTEMPTS or api.died() is None or not spawned.port_taken(tail(api.log)):
                    raise
                # it exited because its port was taken by the time it bound: again on another port
                api.stop()
                self.procs.remove(api)
                api.log.replace(api.log.with_name(f"kube-apiserver.port-taken-{attempt}.log"))

        ca = w / "certs" / "apiserver.crt"
        self.kubeconfig = w / "kubeconfig"
        self.kubeconfig.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "current-context": "snipcheck",
                    "clusters": [{"name": "snipcheck", "cluster": {"server": url, "certificate-authority": str(ca)}}],
                    "users": [{"name": "snipcheck", "user": {"token": token}}],
                    "contexts": [{"name": "snipcheck", "context": {"cluster": "snipcheck", "user": "snipcheck"}}],
                }
            ),
            encoding="utf-8",
        )
        self.kubeconfig.chmod(0o600)
        version = self.kubectl("version", "-o", "json")
        if version.returncode != 0:
            raise KubeError(f"kubectl cannot reach the API server:\n{version.describe()}")
        self.server_version = json.loads(version.stdout)["serverVersion"]["gitVersion"]
        self.startup_seconds = time.monotonic() - t0

    def start_controller_manager(self) -> None:
        """kube-controller-manager against this API server (no cloud, no leader election, no serving port).
        Ready when its service-account controller has given kube-system its `default` account."""
        w = self.workdir
        kcm = self._spawn(
            "kube-controller-manager",
            [
                str(self.tools.kube_controller_manager),
                f"--kubeconfig={self.kubeconfig}",
                "--leader-elect=false",
                "--secure-port=0",
                "--use-service-account-credentials=false",
                f"--service-account-private-key-file={w / 'sa.key'}",
                f"--root-ca-file={w / 'certs' / 'apiserver.crt'}",
                # the HPA acts within seconds instead of the default 15 s: the tests wait for its decisions
                # (minReplicas, metrics it cannot read); what it decides is the same
                "--horizontal-pod-autoscaler-sync-period=3s",
            ],
        )
        deadline = time.monotonic() + READY_DEADLINE_S
        while time.monotonic() < deadline:
            if (why := kcm.died()) is not None:
                raise KubeError(why)
            if self.kubectl("get", "serviceaccount", "default", "-n", "kube-system").returncode == 0:
                return
            time.sleep(0.5)
        raise KubeError(
            f"kube-controller-manager created no `default` ServiceAccount in kube-system within "
            f"{READY_DEADLINE_S:.0f}s; last log lines:\n{tail(kcm.log)}"
        )

    def _wait(self, proc: Proc, url: str, ok: Callable[[str], bool], token: str = "") -> None:
        """Poll `url` until `ok(body)`; a process exit or the deadline raises with its last log lines."""
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # the cert is not written yet at first

        def fetch() -> tuple[int, str]:
            req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
            with urllib.request.urlopen(req, timeout=2, context=ctx) as resp:  # noqa: S310 (loopback)
                return resp.status, resp.read().decode("utf-8", "replace")

        self._wait_for(proc, url, fetch, ok)

    def _wait_for(
        self, proc: Proc, where: str, fetch: Callable[[], tuple[int, str]], ok: Callable[[str], bool]
    ) -> None:
        """Call `fetch` (HTTP status, body) until `ok(body)`; a process exit or the deadline raises with its
        last log lines."""
        deadline = time.monotonic() + READY_DEADLINE_S
        last = ""
        while time.monotonic() < deadline:
            if (why := proc.died()) is not None:
                raise KubeError(why)
            try:
                status, body = fetch()
                if ok(body):
                    return
                last = f"HTTP {status}: {body[:200]}"
            except OSError as exc:
                last = str(exc)
            time.sleep(0.2)
        raise KubeError(
            f"{proc.name} not ready at {where} within {READY_DEADLINE_S:.0f}s (last: {last}); "
            f"last log lines:\n{tail(proc.log)}"
        )

    def stop(self) -> None:
        """Kill every process group started here, remove the work directory; raise if anything survives."""
        for proc in reversed(self.procs):
            proc.stop()
        left = [p.name for p in self.procs if group_alive(p.popen.pid)]
        if left:  # their directory stays with their registry records (a later run's reap removes both)
            raise KubeError(f"processes still running after stop: {left}")
        try:
            saferm.remove_tree(self.workdir)
        except OSError as exc:
            raise KubeError(f"could not remove {self.workdir}: {exc}") from exc
        if self.workdir.exists():
            raise KubeError(f"could not remove {self.workdir}")

    def pids(self) -> list[int]:
        return [p.popen.pid for p in self.procs]

    def logs(self, lines: int = 25) -> str:
        return "\n".join(f"--- {p.name} ---\n{tail(p.log, lines)}" for p in self.procs)

    # ---- kubectl -------------------------------------------------------------------------------

    def kubectl(self, *args: str, stdin: str | None = None, timeout: float = 60) -> KubectlResult:
        """kubectl against this control plane; its discovery cache stays in the work directory."""
        full = [f"--kubeconfig={self.kubeconfig}", f"--cache-dir={self.workdir / 'kubectl-cache'}", *args]
        env = {**os.environ, "HOME": str(self.workdir), "KUBECONFIG": str(self.kubeconfig)}
        t0 = time.monotonic()
        res = subprocess.run(
            [str(self.tools.kubectl), *full], capture_output=True, text=True, input=stdin, timeout=timeout, env=env
        )
        return KubectlResult(list(args), res.returncode, res.stdout, res.stderr, time.monotonic() - t0)
