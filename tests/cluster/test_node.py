"""Example 3 on a real node: what the chapter claims about the Deployment, proven by running it.

Opt-in (SNIPCHECK_NODE=1; .ci/run sets it): the node changes sysctls, iptables, cgroups and network
links while it runs, and snipcheck.harness.kube.hoststate puts them back (a leftover fails the teardown).
Setup (snipcheck.harness.kube.node): etcd + kube-apiserver + kube-controller-manager + kube-scheduler, kubelet
with a second containerd (CRI), CNI bridge, kube-proxy (iptables), CoreDNS — all built from the pinned
modules. The chapter's image is built from snippets/myapp and imported as the kustomization names it.

Test-only stand-ins (not in the chapter): PostgreSQL in namespace `database` and Redis in `cache`, the
images of example 2's compose.yaml, so that the ConfigMap's DNS names resolve; PostgreSQL serves TLS
with a throw-away certificate because the ConfigMap says DB_SSLMODE=require.
Requests come from the host to the Service's ClusterIP (kube-proxy's rules), and from a client Pod
(busybox) by DNS name. `kubectl port-forward svc/...` attaches to one Pod, so it is used for one
request only, not for the rolling update (it ends when that Pod is replaced).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sections
import yaml
from clustertools import fail, parse

from snipcheck.harness.docker import buildkit as docker_buildkit
from snipcheck.harness.docker import cli as dk
from snipcheck.harness.kube import claim as kubeclaim
from snipcheck.harness.kube import node as kubenode
from snipcheck.harness.kube.controlplane import Tools
from snipcheck.harness.kube.node import NODE_IP, Node
from snipcheck.harness.kube.process import KubeError, free_port
from snipcheck.model import manifest
from snipcheck.model.paths import SNIPPETS
from support import http_get, require

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(900)]

APP = SNIPPETS / "myapp"
KUSTOMIZATION = APP / "k8s"
NS = "myapp"  # example 3's namespace: the node is this run's own cluster
COVERS_ROLLOUT = ("myapp/k8s/kustomization.yaml", "myapp/k8s/deployment.yaml")
CLIENT_IMAGE = "snipcheck.local/busybox:static"
# one request per 10 ms per client (≤ 200/s in all) during a rolling update. Unpaced, the two clients sent
# ~800/s and kept both cores busy, slowing the rest of the run; paced, the contrast without the shutdown
# delay still loses requests in the window a stopped Pod stays in kube-proxy's rules (95 of 5 291 on
# 2026-12-02), and the test fails if it ever loses none
CLIENT_INTERVAL = 0.01
CLIENT_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "client", "namespace": NS, "labels": {"run": "client"}},
    "spec": {
        "restartPolicy": "Never",
        "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "client",
                "image": CLIENT_IMAGE,
                "imagePullPolicy": "Never",
                "command": ["/busybox", "sleep", "600"],
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            }
        ],
    },
}


@pytest.fixture(scope="module")
def node(kube_tools: Tools, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    require(
        kubenode.wanted(),
        f"the node tests are opt-in: {kubenode.NODE_ENV}=1 bash scripts/test.sh -m cluster (root; kubelet changes "
        "sysctls, iptables and cgroups while it runs and the tests put them back; .ci/run sets it)",
    )
    require(not kubenode.missing_tools(), kubenode.missing_tools())
    require(dk.engine_problem() is None, f"the node needs the chapter's image from Docker: {dk.engine_problem()}")
    try:
        n = Node.start(kube_tools)
    except kubeclaim.HostInUse as exc:
        require(False, str(exc))
    except KubeError as exc:
        fail(f"the node did not start: {exc}")
    if n.recovered:
        warnings.warn("put back what a killed run's node left:\n" + "\n".join(n.recovered), stacklevel=1)
    try:
        yield n
    finally:
        n.stop()  # raises, naming what it could not put back


def _image_tar(ref: str, dest: Path) -> Path:
    if not dk.image_exists(ref):
        fail(f"{ref} is not in Docker's image store (the kit tier builds it: python -m snipcheck kit)")
    return dk.save(ref, dest)


def _import_and_drop(node: Node, tar: Path, name: str) -> None:
    """Import a `docker save` tar into the node and delete it: the tars (about 0.4 GB a run) would stay in
    pytest's basetemp, on tmpfs (RAM) where /tmp is one (review L3)."""
    try:
        node.import_image(tar, name)
    finally:
        tar.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def example3(node: Node, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Stand-ins, then example 3's kustomization applied for real; returns facts measured on the way."""
    tmp = tmp_path_factory.mktemp("node-images")
    facts: dict[str, Any] = {}
    # the chapter's image, built as the images tier builds it, named as the kustomization names it
    docs = parse(node.kubectl("kustomize", str(KUSTOMIZATION)).stdout, str(KUSTOMIZATION))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    app_image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    settings = manifest.load()["myapp/Dockerfile"].settings["build"]
    tag = f"snipcheck-node-myapp:{dk.RUN_ID}"
    t0 = time.monotonic()
    docker_buildkit.build(APP, tag, build_args=settings["args"]).check()
    try:
        _import_and_drop(node, dk.save(tag, tmp / "myapp.tar"), app_image)
    finally:
        dk.remove_image(tag)
    compose = yaml.safe_load((APP / "compose.yaml").read_text())["services"]
    for svc in ("postgres", "redis"):
        ref = compose[svc]["image"]
        _import_and_drop(node, _image_tar(ref, tmp / f"{svc}.tar"), ref)
    node.import_binary(Path("/bin/busybox"), CLIENT_IMAGE, ["/busybox", "sleep", "3600"])
    facts["images_s"] = round(time.monotonic() - t0, 1)

    secret = next(d for d in docs if d["kind"] == "Secret")
    standins = standins_manifest(node, compose["postgres"]["image"], compose["redis"]["image"], secret)
    res = node.kubectl("apply", "-f", "-", stdin=standins)
    if res.returncode != 0:
        fail(f"the stand-ins were refused:\n{res.describe()}")
    facts["standins"] = standins
    for ns, name in (("database", "postgres"), ("cache", "redis")):
        rollout(node, ns, name)

    t0 = time.monotonic()
    res = node.kubectl("apply", "--server-side", "--validate=strict", "-k", str(KUSTOMIZATION))
    if res.returncode != 0:
        fail(f"example 3 was refused:\n{res.describe()}")
    # the Deployment has no replicas (the HPA owns the count): one Pod at first, minReplicas after the HPA's sync
    replicas = next(d for d in docs if d["kind"] == "HorizontalPodAutoscaler")["spec"]["minReplicas"]

    def deployment_replicas() -> int | None:
        got = node.kubectl("get", "deployment", "myapp", "-n", NS, "-o", "json")
        return json.loads(got.stdout)["spec"].get("replicas") if got.returncode == 0 else None

    node.wait_for(f"the HPA to set minReplicas={replicas}", lambda: deployment_replicas() == replicas, 120)
    rollout(node, NS, "myapp")
    facts["available_s"] = round(time.monotonic() - t0, 1)
    facts["deployment"] = deployment
    facts["replicas"] = replicas
    return facts


STANDINS = Path(__file__).with_name("standins.yaml")


def standins_manifest(node: Node, pg_image: str, redis_image: str, app_secret: dict[str, Any]) -> str:
    """standins.yaml with its values filled in: PostgreSQL (TLS with a throw-away certificate, example 2's
    init.sql) in `database`, Redis in `cache` — what the ConfigMap names."""
    key, crt = node.workdir / "pg.key", node.workdir / "pg.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=postgres.database.svc.cluster.local", "-keyout", str(key), "-out", str(crt)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    values = {
        "PG_IMAGE": pg_image,
        "REDIS_IMAGE": redis_image,
        "DB_PASSWORD": app_secret["stringData"]["DB_PASSWORD"],
        "TLS_CRT": crt.read_text(),
        "TLS_KEY": key.read_text(),
        "INIT_SQL": (APP / "scripts" / "init.sql").read_text(),
    }

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
            return values[value[2:-1]]  # a KeyError names a placeholder the test does not fill
        return value

    docs = [fill(d) for d in yaml.safe_load_all(STANDINS.read_text(encoding="utf-8")) if d]
    return "\n---\n".join(json.dumps(d) for d in docs)


def rollout(node: Node, ns: str, name: str, timeout: int = 240) -> None:
    res = node.kubectl(
        "rollout", "status", f"deployment/{name}", "-n", ns, f"--timeout={timeout}s", timeout=timeout + 15
    )
    if res.returncode != 0:
        pods = node.kubectl("get", "pods", "-n", ns, "-o", "wide").stdout
        events = node.kubectl("get", "events", "-n", ns, "--sort-by=.lastTimestamp").stdout[-3000:]
        logs = node.kubectl("logs", "-n", ns, f"deployment/{name}", "--tail=20").stdout
        fail(f"deployment {ns}/{name} not available:\n{res.describe()}\n{pods}\n{events}\n{logs}")


def pods(node: Node, ns: str, selector: str) -> list[dict[str, Any]]:
    res = node.kubectl("get", "pods", "-n", ns, "-l", selector, "-o", "json")
    if res.returncode != 0:
        fail(res.describe())
    return json.loads(res.stdout)["items"]


def service_url(node: Node, path: str) -> str:
    ip = node.kubectl("get", "svc", "myapp", "-n", NS, "-o", "jsonpath={.spec.clusterIP}").stdout.strip()
    return f"http://{ip}:80{path}"


def get(url: str, timeout: float = 5) -> tuple[int, str]:
    """support.http_get, with a refused or timed-out connection counted as status 0 (a failed request)."""
    try:
        return http_get(url, timeout)
    except OSError as exc:
        return 0, str(exc)


def json_logs(node: Node, pod: str) -> list[dict[str, Any]]:
    out = node.kubectl("logs", "-n", NS, pod).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


# ---- the proofs -------------------------------------------------------------------------------------


@pytest.mark.check("kube-node")
@pytest.mark.covers(*COVERS_ROLLOUT)
def test_deployment_rolls_out_and_serves(node: Node, example3: dict[str, Any], measure: dict[str, Any]) -> None:
    """All replicas Ready behind the Service; requests through the ClusterIP reach the database."""
    replicas = example3["replicas"]
    ready = [p for p in pods(node, NS, "app=myapp") if _ready(p)]
    measure.update(node.timings)
    measure.update(seconds_to_available=example3["available_s"], replicas_ready=len(ready))
    measure["node"] = f"kubelet {node.tools.version}, containerd CRI, CNI bridge, kube-proxy iptables, CoreDNS"
    assert len(ready) == replicas, f"{len(ready)} of {replicas} Pods Ready"
    status, body = get(service_url(node, "/api/v1/users"))
    assert status == 200 and "alice@example.com" in body, f"GET /api/v1/users through the Service: {status} {body}"


def _ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))


@pytest.mark.check("kube-node")
@pytest.mark.covers("myapp/k8s/deployment.yaml")
def test_limits_and_go_runtime_settings_inside_the_pod(
    node: Node, example3: dict[str, Any], measure: dict[str, Any]
) -> None:
    """The cgroup that kubelet made enforces the text's limits; the service logs GOMEMLIMIT and GOMAXPROCS."""
    spec = example3["deployment"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in spec["env"]}
    pod = pods(node, NS, "app=myapp")[0]
    uid = pod["metadata"]["uid"]
    cid = pod["status"]["containerStatuses"][0]["containerID"].split("//", 1)[1]
    qos = pod["status"]["qosClass"].lower()
    # under the node's own cgroup root (kubelet's cgroupRoot: the work directory's name, review H1)
    limit, quota, period = _cgroup_limits(f"{node.workdir.name}/kubepods/{qos}/pod{uid}/{cid}")
    start = next(line for line in json_logs(node, pod["metadata"]["name"]) if line.get("msg") == "starting")
    measure.update(
        memory_limit_bytes=limit,
        cpu_quota=f"{quota}/{period}",
        gomemlimit=start["gomemlimit"],
        gomaxprocs=start["gomaxprocs"],
        node_cpus=_cpus(),
    )
    assert limit == 256 * 1024 * 1024, f"memory.limit_in_bytes {limit} (limits.memory: 256Mi)"
    assert quota * 1000 // period == 500, f"cpu quota {quota}/{period} (limits.cpu: 500m)"
    assert env["GOMEMLIMIT"] == "205MiB" and start["gomemlimit"] == 205 * 1024 * 1024, start
    # Go >= 1.25 derives GOMAXPROCS from the quota: ceil(0.5) = 1, raised to its minimum 2, never above the CPUs
    assert start["gomaxprocs"] == min(2, _cpus()), start


def _cgroup_limits(rel: str) -> tuple[int, int, int]:
    """Memory limit (bytes), CPU quota and period (µs) of the container's cgroup, v1 or v2 (kubelet's
    cgroupfs driver names it <cgroupRoot>/kubepods/<qos>/pod<uid>/<container id>)."""
    root = Path("/sys/fs/cgroup")
    if (root / "cgroup.controllers").exists():  # v2: one hierarchy
        quota, period = (root / rel / "cpu.max").read_text().split()
        return int((root / rel / "memory.max").read_text()), int(quota), int(period)
    cpu = next(root.glob(f"*/{rel}/cpu.cfs_quota_us")).parent  # "cpu,cpuacct" or "cpu" here
    return (
        int((root / "memory" / rel / "memory.limit_in_bytes").read_text()),
        int((cpu / "cpu.cfs_quota_us").read_text()),
        int((cpu / "cpu.cfs_period_us").read_text()),
    )


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


@pytest.mark.check("kube-node")
@pytest.mark.covers("myapp/k8s/service.yaml", "myapp/k8s/configmap.yaml")
def test_service_and_dns_from_another_pod(node: Node, example3: dict[str, Any], measure: dict[str, Any]) -> None:
    """A client Pod reaches the Service by its DNS name; the ConfigMap's database and cache names resolve."""
    # the namespace enforces Pod Security "restricted": the client Pod complies like the chapter's
    res = node.kubectl("apply", "-f", "-", stdin=json.dumps(CLIENT_POD))
    assert res.returncode == 0, res.describe()
    node.wait_for("the client Pod Ready", lambda: all(_ready(p) for p in pods(node, NS, "run=client")), 60)
    try:
        res = node.kubectl("exec", "-n", NS, "client", "--", "/busybox", "wget", "-qO-",
                           "http://myapp.myapp.svc.cluster.local/version")  # fmt: skip
        assert res.returncode == 0 and '"version":"1.0.0"' in res.stdout, res.describe()
        resolved = {}
        for name in ("postgres.database.svc.cluster.local", "redis.cache.svc.cluster.local"):
            r = node.kubectl("exec", "-n", NS, "client", "--", "/busybox", "nslookup", name)
            assert r.returncode == 0, r.describe()
            resolved[name] = r.stdout.strip().splitlines()[-1]
        measure["resolved"] = resolved
    finally:
        node.kubectl("delete", "pod", "client", "-n", NS, "--grace-period=0", "--force")
    # the same Service from 127.0.0.1 through kubectl port-forward (one Pod; the API server -> kubelet stream)
    port = free_port()
    pf = subprocess.Popen(
        [str(node.tools.kubectl), f"--kubeconfig={node.cp_().kubeconfig}", "port-forward", "-n", NS, "svc/myapp",
         f"{port}:80", "--address=127.0.0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        node.wait_for("port-forward", lambda: get(f"http://127.0.0.1:{port}/version", 2)[0] == 200, 30)
    finally:
        pf.terminate()
        pf.wait(timeout=10)


@pytest.mark.check("kube-node")
@pytest.mark.covers("myapp/k8s/hpa.yaml")
def test_hpa_reads_its_target(node: Node, example3: dict[str, Any], measure: dict[str, Any]) -> None:
    """Without metrics-server the HPA finds its Deployment and says it cannot read metrics; it does not
    scale below minReplicas or change the replicas."""

    def status() -> dict[str, Any]:
        return json.loads(node.kubectl("get", "hpa", "myapp", "-n", NS, "-o", "json").stdout).get("status", {})

    node.wait_for(
        "HPA conditions",
        lambda: {"AbleToScale", "ScalingActive"} <= {c["type"] for c in status().get("conditions", [])},
        90,
    )
    conds = {c["type"]: c for c in status()["conditions"]}
    measure["able_to_scale"] = conds["AbleToScale"]["status"]
    measure["scaling_active"] = f"{conds['ScalingActive']['status']} ({conds['ScalingActive']['reason']})"
    measure["current_replicas"] = status().get("currentReplicas")
    assert conds["AbleToScale"]["status"] == "True", conds
    assert conds["ScalingActive"]["status"] == "False" and "metrics" in conds["ScalingActive"]["message"].lower(), conds
    assert status().get("currentReplicas") == example3["replicas"]


@pytest.mark.check("kube-node")
@pytest.mark.covers("myapp/k8s/deployment.yaml")
def test_readiness_takes_pods_out_of_the_service_without_restarts(
    node: Node, example3: dict[str, Any], measure: dict[str, Any]
) -> None:
    """Redis down: every Pod fails readiness and leaves the EndpointSlice, liveness keeps them running
    (no restart); Redis back: they return. The test stops Redis itself and waits for each state."""

    def ready_endpoints() -> int:
        res = node.kubectl("get", "endpointslices", "-n", NS, "-l", "kubernetes.io/service-name=myapp", "-o", "json")
        eps = [e for s in json.loads(res.stdout)["items"] for e in s.get("endpoints") or []]
        return sum(1 for e in eps if e.get("conditions", {}).get("ready"))

    replicas = example3["replicas"]
    liveness = example3["deployment"]["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
    liveness_window = liveness["periodSeconds"] * liveness["failureThreshold"]  # 10 s x 3 in the text
    assert ready_endpoints() == replicas
    restarts_before = sum(
        c["restartCount"] for p in pods(node, NS, "app=myapp") for c in p["status"]["containerStatuses"]
    )
    t0 = time.monotonic()
    assert node.kubectl("scale", "deployment/redis", "-n", "cache", "--replicas=0").returncode == 0
    try:
        node.wait_for("no ready endpoint while Redis is down", lambda: ready_endpoints() == 0, 120)
        out_s = time.monotonic() - t0
        time.sleep(liveness_window + 5)  # liveness had every chance to restart them
        status, body = get(service_url(node, "/health/live"), 3)
        restarts = sum(c["restartCount"] for p in pods(node, NS, "app=myapp") for c in p["status"]["containerStatuses"])
    finally:
        node.kubectl("scale", "deployment/redis", "-n", "cache", "--replicas=1")
    t1 = time.monotonic()
    node.wait_for("every endpoint ready again", lambda: ready_endpoints() == replicas, 180)
    measure.update(seconds_until_out=round(out_s, 1), seconds_until_back=round(time.monotonic() - t1, 1))
    measure["restarts_while_not_ready"] = restarts - restarts_before
    assert restarts == restarts_before, (
        f"liveness restarted Pods while only Redis was down ({restarts_before} -> {restarts})"
    )
    assert status == 0, f"the Service still answered with no ready endpoint: {status} {body[:200]}"


@dataclass
class Update:
    """A rolling update watched from outside: the requests sent during it and the old Pods' JSON logs."""

    results: list[tuple[int, str]]
    logs: dict[str, list[dict[str, Any]]]
    seconds: float

    @property
    def failed(self) -> list[tuple[int, str]]:
        return [r for r in self.results if r[0] != 200]

    def shutdown_seconds(self) -> dict[str, float]:
        """Per old Pod: from "shutdown started" to "server stopped" in its own log."""
        out = {}
        for name, lines in self.logs.items():
            msgs = {line.get("msg"): line for line in lines}
            assert "shutdown started" in msgs and "server stopped" in msgs, f"{name}: no graceful shutdown in its log"
            out[name] = _seconds(msgs["server stopped"]["time"]) - _seconds(msgs["shutdown started"]["time"])
        return out


def update_under_load(node: Node) -> Update:
    """`kubectl rollout restart` while two clients send requests through the Service's ClusterIP, each at
    most one per CLIENT_INTERVAL (from 2 s before the update until 2 s after the last old Pod is gone)."""
    old = [p["metadata"]["name"] for p in pods(node, NS, "app=myapp")]
    kubectl = [str(node.tools.kubectl), f"--kubeconfig={node.cp_().kubeconfig}"]
    followers = {
        name: subprocess.Popen([*kubectl, "logs", "-f", "-n", NS, name], stdout=subprocess.PIPE, text=True)
        for name in old
    }
    url = service_url(node, "/api/v1/users")
    results: list[tuple[int, str]] = []
    stop = threading.Event()

    def stream() -> None:
        next_at = time.monotonic()
        while not stop.is_set() and len(results) < 100_000:
            results.append(get(url, 5))
            next_at += CLIENT_INTERVAL
            stop.wait(max(0.0, next_at - time.monotonic()))

    workers = [threading.Thread(target=stream) for _ in range(2)]
    for w in workers:
        w.start()
    t0 = time.monotonic()
    try:
        time.sleep(2)  # requests flow before the update starts
        assert node.kubectl("rollout", "restart", "deployment/myapp", "-n", NS).returncode == 0
        rollout(node, NS, "myapp")
        node.wait_for(
            "the old Pods gone",
            lambda: not {p["metadata"]["name"] for p in pods(node, NS, "app=myapp")} & set(old),
            120,
        )
        time.sleep(2)
    except BaseException:
        for proc in followers.values():  # the log followers would outlive the failed update
            proc.kill()
            proc.wait(timeout=10)
        raise
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=30)
    seconds = time.monotonic() - t0
    logs = {}
    for name, proc in followers.items():
        out, _ = proc.communicate(timeout=60)
        logs[name] = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return Update(results, logs, seconds)


@pytest.mark.check("kube-node")
@pytest.mark.covers(*COVERS_ROLLOUT)
def test_rolling_update_drops_no_request(node: Node, example3: dict[str, Any], measure: dict[str, Any]) -> None:
    """maxUnavailable 0, readiness and SHUTDOWN_DELAY: no request fails during a rolling update, and every
    old Pod logs a graceful shutdown that ends within terminationGracePeriodSeconds."""
    grace = example3["deployment"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    update = update_under_load(node)
    shutdown_s = update.shutdown_seconds()
    measure.update(requests=len(update.results), failed=len(update.failed), update_seconds=round(update.seconds, 1))
    measure["shutdown_seconds"] = {k: round(v, 1) for k, v in shutdown_s.items()}
    assert update.results and not update.failed, (
        f"{len(update.failed)} of {len(update.results)} requests failed during the update: {update.failed[:5]}"
    )
    assert all(s < grace for s in shutdown_s.values()), f"shutdowns {shutdown_s} not within {grace}s"


@pytest.mark.check("kube-node")
@pytest.mark.covers("myapp/k8s/deployment.yaml")
def test_without_the_shutdown_delay_the_same_update_drops_requests(
    node: Node, example3: dict[str, Any], measure: dict[str, Any]
) -> None:
    """The contrast that gives the test above its meaning: the same update with SHUTDOWN_DELAY=0s (the Pod
    stops listening at SIGTERM, while kube-proxy still sends it new connections for a moment) fails
    requests. If this ever passes with 0 failures, the 0 above proves nothing and the test says so."""
    env = {
        e["name"]: e.get("value") for e in example3["deployment"]["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["SHUTDOWN_DELAY"] != "0s"
    res = node.kubectl("set", "env", "deployment/myapp", "-n", NS, "SHUTDOWN_DELAY=0s")
    assert res.returncode == 0, res.describe()
    try:
        rollout(node, NS, "myapp")  # now every Pod runs without the delay
        replicas = example3["replicas"]
        node.wait_for("one ReplicaSet's Pods only", lambda: len(pods(node, NS, "app=myapp")) == replicas, 120)
        update = update_under_load(node)
    finally:
        node.kubectl("set", "env", "deployment/myapp", "-n", NS, f"SHUTDOWN_DELAY={env['SHUTDOWN_DELAY']}")
    measure.update(requests_without_delay=len(update.results), failed_without_delay=len(update.failed))
    assert update.failed, (
        f"SHUTDOWN_DELAY=0s lost no request either ({len(update.results)} sent): this node does not show "
        "what the delay protects against, so the rolling-update test above is not evidence"
    )


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


# ---- a section of the Kubernetes page, applied as the page shows it (issue 30 item 2, N1) --------------

SECTION = SNIPPETS / "kubernetes"
# the Services section with what it needs, in the order a reader applies them
SERVICES_SECTION = (
    "namespace.yaml",
    "configmap.yaml",
    "secret.yaml",
    "deployment.yaml",
    "service-clusterip.yaml",
    "service-nodeport.yaml",
    "service-loadbalancer.yaml",
)
TEXT_NAMESPACE = "production"  # docs/kubernetes.md: the manifests of this and the following sections live there


@pytest.mark.check("kube-node")
@pytest.mark.covers(*(f"kubernetes/{f}" for f in SERVICES_SECTION))
def test_the_services_section_as_shown(node: Node, example3: dict[str, Any], measure: dict[str, Any]) -> None:
    """`kubectl apply -f` of each file as the page shows it, nothing added: every object lands in the
    namespace the text names, every Service selects the Deployment's Pods (ready endpoints), and the
    ClusterIP and NodePort answer /health/ready. A manifest without its namespace lands in `default`,
    where its Service selects nothing: this test fails on it."""
    files = [SECTION / f for f in SERVICES_SECTION]
    docs = sections.section_docs(files)
    secret = next(d for _, d in docs if d["kind"] == "Secret")
    config = next(d for _, d in docs if d["kind"] == "ConfigMap")["data"]
    deployment = next(d for _, d in docs if d["kind"] == "Deployment")
    dep_ns = sections.namespace_of(deployment)
    try:
        for f in files:
            res = node.kubectl("apply", "-f", str(f))
            assert res.returncode == 0, f"{f.name} as shown was refused:\n{res.describe()}"
        # the dependencies, under the names the section's ConfigMap gives (the test's only addition)
        postgres = sections.renamed_postgres(list(yaml.safe_load_all(example3["standins"])))
        for d in postgres:
            for c in d["spec"]["template"]["spec"]["containers"] if d["kind"] == "Deployment" else []:
                for e in c["env"]:
                    if e["name"] == "POSTGRES_PASSWORD":
                        e["value"] = sections.secret_value(secret, "DB_PASSWORD")
        hosts = {
            config["DB_HOST"].split(".")[0]: f"postgres{sections.SUFFIX}.database.svc.cluster.local",
            config["REDIS_ADDR"].split(".")[0]: "redis.cache.svc.cluster.local",
        }
        deps = postgres + sections.external_names(sections.namespace_of(secret), hosts)
        res = node.kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": deps}))
        assert res.returncode == 0, res.describe()
        rollout(node, "database", f"postgres{sections.SUFFIX}")
        rollout(node, dep_ns, deployment["metadata"]["name"])

        misplaced = [
            f"{f.name}: {d['kind']}/{d['metadata']['name']} is in {sections.namespace_of(d)!r}"
            for f, d in docs
            if d["kind"] != "Namespace" and sections.namespace_of(d) != TEXT_NAMESPACE
        ]
        selected: dict[str, list[str]] = {}
        deadline = time.monotonic() + 30
        services = [d for _, d in docs if d["kind"] == "Service"]
        while time.monotonic() < deadline:
            selected = {
                d["metadata"]["name"]: sections.ready_endpoints(node, sections.namespace_of(d), d["metadata"]["name"])
                for d in services
            }
            if all(selected.values()):
                break
            time.sleep(1)
        measure["section_endpoints"] = {name: len(eps) for name, eps in selected.items()}
        empty = [
            f"{d['metadata']['name']} ({sections.namespace_of(d)})"
            for d in services
            if not selected[d["metadata"]["name"]]
        ]
        assert not misplaced and not empty, (
            f"the page says these objects live in {TEXT_NAMESPACE!r}: {misplaced}; "
            f"Services with no ready endpoint from the Deployment {dep_ns}/{deployment['metadata']['name']}: {empty}"
        )
        clusterip = next(d for d in services if d["spec"].get("type", "ClusterIP") == "ClusterIP")
        ip = node.kubectl(
            "get", "svc", clusterip["metadata"]["name"], "-n", TEXT_NAMESPACE, "-o", "jsonpath={.spec.clusterIP}"
        ).stdout.strip()
        port = clusterip["spec"]["ports"][0]["port"]
        nodeport = next(d for d in services if d["spec"].get("type") == "NodePort")["spec"]["ports"][0]["nodePort"]
        urls = {
            "clusterip": f"http://{ip}:{port}/health/ready",
            "nodeport": f"http://{NODE_IP}:{nodeport}/health/ready",  # the node's own bridge address
        }
        # kube-proxy programs a new Service's rules on its next sync, a moment after the endpoints are ready
        answers: dict[str, int] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            answers = {name: get(url, 3)[0] for name, url in urls.items()}
            if set(answers.values()) == {200}:
                break
            time.sleep(1)
        measure["section_http"] = answers
        assert answers == {"clusterip": 200, "nodeport": 200}, answers
    finally:
        node.kubectl("delete", "namespace", TEXT_NAMESPACE, "--wait=false")
        for kind, name in (
            ("deployment", "postgres"),
            ("service", "postgres"),
            ("secret", "postgres-tls"),
            ("configmap", "postgres-init"),
        ):
            node.kubectl("delete", kind, f"{name}{sections.SUFFIX}", "-n", "database", "--wait=false")
