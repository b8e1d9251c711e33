"""Example 3's kustomization applied for real, with kube-controller-manager running (no node, no scheduler).

What controllers show without a node: the namespace gets its `default` ServiceAccount (what the
dry-run tests emulate), the Deployment creates a ReplicaSet and as many Pods as `replicas` says,
each Pod passes admission with the example's own ServiceAccount and carries the text's limits and
GOMEMLIMIT; they stay Pending (no node: scheduling, probes and rollout need one, see scripts/kube/NODE.md).
The HPA controller finds its target and reports, without metrics-server, that it cannot read CPU metrics.
The objects live in a namespace of their own (example 3's `myapp`, renamed per run).
"""

from __future__ import annotations

import copy
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from clustertools import fail, parse

from snipcheck.harness.kube.controlplane import ControlPlane, KubeError
from snipcheck.model.paths import SNIPPETS

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(180)]

KUSTOMIZATION = SNIPPETS / "myapp" / "k8s"
DEADLINE_S = 60.0


@pytest.fixture(scope="module")
def controllers(control_plane: ControlPlane) -> ControlPlane:
    try:
        control_plane.start_controller_manager()
    except KubeError as exc:
        fail(f"kube-controller-manager did not start: {exc}")
    return control_plane


@pytest.fixture(scope="module")
def example3(controllers: ControlPlane) -> tuple[str, list[dict[str, Any]]]:
    """Example 3 applied for real into a namespace of this run; its namespace and objects."""
    res = controllers.kubectl("kustomize", str(KUSTOMIZATION))
    if res.returncode != 0:
        fail(res.describe())
    docs = parse(res.stdout, str(KUSTOMIZATION))
    ns = f"myapp-{secrets.token_hex(3)}"
    for d in docs:
        if d["kind"] == "Namespace":
            d["metadata"]["name"] = ns
        else:
            d["metadata"]["namespace"] = ns
    res = controllers.kubectl("apply", "--server-side", "--validate=strict", "-f", "-", stdin=yaml.safe_dump_all(docs))
    if res.returncode != 0:
        fail(f"applying example 3 for real failed:\n{res.describe()}")
    return ns, docs


def get(cp: ControlPlane, *args: str) -> dict[str, Any]:
    res = cp.kubectl("get", *args, "-o", "json")
    if res.returncode != 0:
        fail(res.describe())
    return json.loads(res.stdout)


def wait_for(what: str, probe: Callable[[], Any], cp: ControlPlane) -> tuple[Any, float]:
    """Poll `probe` until it returns something truthy; its value and the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < DEADLINE_S:
        value = probe()
        if value:
            return value, time.monotonic() - start
        time.sleep(0.5)
    fail(f"{what} not within {DEADLINE_S:.0f}s; control-plane logs:\n{cp.logs()}")
    raise AssertionError  # unreachable


def the(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == kind)


def test_namespace_gets_its_default_service_account(
    example3: tuple[str, list[dict[str, Any]]], controllers: ControlPlane
) -> None:
    ns, _ = example3
    _, seconds = wait_for(
        f"ServiceAccount default in {ns}",
        lambda: controllers.kubectl("get", "sa", "default", "-n", ns).returncode == 0,
        controllers,
    )
    assert seconds < DEADLINE_S


def test_deployment_creates_its_pods(example3: tuple[str, list[dict[str, Any]]], controllers: ControlPlane) -> None:
    """The Deployment carries no `replicas` (the HPA owns the count): it starts with one Pod and the HPA
    raises it to minReplicas, even without metrics."""
    ns, docs = example3
    deployment = the(docs, "Deployment")
    replicas = the(docs, "HorizontalPodAutoscaler")["spec"]["minReplicas"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]

    def pods() -> list[dict[str, Any]]:
        items = get(controllers, "pods", "-n", ns, "-l", "app=myapp")["items"]
        return items if len(items) >= replicas else []

    found, seconds = wait_for(f"{replicas} Pods of Deployment {deployment['metadata']['name']}", pods, controllers)
    assert len(found) == replicas, [p["metadata"]["name"] for p in found]
    rs = get(controllers, "replicasets", "-n", ns, "-l", "app=myapp")["items"]
    assert len(rs) == 1 and rs[0]["spec"]["replicas"] == replicas, rs
    for pod in found:
        spec = pod["spec"]
        assert spec["serviceAccountName"] == deployment["spec"]["template"]["spec"]["serviceAccountName"]
        c = spec["containers"][0]
        assert c["resources"] == container["resources"], c["resources"]
        # the server defaults fieldRef.apiVersion; names and literal values are the template's
        assert [(e["name"], e.get("value")) for e in c["env"]] == [
            (e["name"], e.get("value")) for e in container["env"]
        ], c["env"]
        assert pod["status"]["phase"] == "Pending"  # no node here
    env = {e["name"]: e.get("value") for e in found[0]["spec"]["containers"][0]["env"]}
    assert env.get("GOMEMLIMIT"), "example 3 sets GOMEMLIMIT in the Pod"
    print(
        f"{replicas} pods created in {seconds:.1f}s; limits {container['resources'].get('limits')}, "
        f"GOMEMLIMIT={env['GOMEMLIMIT']}"
    )


def test_hpa_finds_its_target_without_metrics(
    example3: tuple[str, list[dict[str, Any]]], controllers: ControlPlane
) -> None:
    ns, docs = example3
    hpa = the(docs, "HorizontalPodAutoscaler")
    name = hpa["metadata"]["name"]

    def conditions() -> dict[str, dict[str, Any]]:
        status = get(controllers, "hpa", name, "-n", ns).get("status", {})
        conds = {c["type"]: c for c in status.get("conditions", [])}
        return conds if "ScalingActive" in conds else {}

    conds, _ = wait_for(f"HPA {name} status conditions", conditions, controllers)
    assert conds["AbleToScale"]["status"] == "True", conds  # the scale target resolves
    active = conds["ScalingActive"]
    assert active["status"] == "False" and active["reason"] == "FailedGetResourceMetric", active


def _apply(cp: ControlPlane, doc: dict[str, Any]) -> dict[str, Any]:
    """`kubectl apply -f -` as the reader runs it (client-side); the object as the server stored it."""
    res = cp.kubectl("apply", "-f", "-", "-o", "json", stdin=yaml.safe_dump(doc))
    if res.returncode != 0:
        fail(res.describe())
    return json.loads(res.stdout)


def test_the_hpa_owns_the_replica_count(example3: tuple[str, list[dict[str, Any]]], controllers: ControlPlane) -> None:
    """N8: re-applying the chapter's Deployment keeps the count the HPA set; the original's `replicas: 3`
    puts its own value back on every apply. Both read from the object the apply returned (no timing)."""
    ns, docs = example3
    deployment, hpa = the(docs, "Deployment"), the(docs, "HorizontalPodAutoscaler")
    assert "replicas" not in deployment["spec"], "an HPA-managed Deployment must not set replicas"
    name, low = deployment["metadata"]["name"], hpa["spec"]["minReplicas"]
    wait_for(
        f"the HPA to set {name} to minReplicas={low}",
        lambda: get(controllers, "deployment", name, "-n", ns)["spec"].get("replicas") == low,
        controllers,
    )
    assert _apply(controllers, deployment)["spec"]["replicas"] == low, "kubectl apply changed the HPA's count"

    # ❌ the original: replicas: 3, and an HPA whose minimum is above it
    legacy = copy.deepcopy(deployment)
    legacy["metadata"]["name"] = "legacy"
    legacy["spec"]["replicas"] = 3
    # its own Pods: the chapter's Deployment and its counts stay as they are
    legacy["spec"]["selector"] = {"matchLabels": {"app": "legacy"}}
    legacy["spec"]["template"]["metadata"]["labels"] = {"app": "legacy"}
    legacy_hpa = copy.deepcopy(hpa)
    legacy_hpa["metadata"]["name"] = "legacy"
    legacy_hpa["spec"]["scaleTargetRef"]["name"] = "legacy"
    legacy_hpa["spec"]["minReplicas"] = 4
    _apply(controllers, legacy)
    _apply(controllers, legacy_hpa)
    wait_for(
        "the HPA to raise legacy to 4",
        lambda: get(controllers, "deployment", "legacy", "-n", ns)["spec"].get("replicas") == 4,
        controllers,
    )
    assert _apply(controllers, legacy)["spec"]["replicas"] == 3, "the apply should have reset the HPA's 4 to 3"
    for kind in ("hpa", "deployment"):
        controllers.kubectl("delete", kind, "legacy", "-n", ns, "--wait=false")
