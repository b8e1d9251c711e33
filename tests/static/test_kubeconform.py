"""kubeconform -strict against offline, standalone schemas of several Kubernetes versions.

Schemas: snipcheck.harness.kube.schemas turns the `kubernetes-validate` wheel's schemas into standalone ones
under build/k8s-schemas, and `-schema-location` points ONLY there, so a kind without a schema is an
error (no -ignore-missing-schemas) and nothing is ever downloaded. A kustomization is validated
through the output of `kustomize build DIR`.

Manifest settings used (optional): `kubeconform_error: text` for expect: fails
(see statictools.expected_failure).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from k8s_reference import VALID_MANIFESTS
from statictools import K8S_VERSIONS, expected_failure, fail, ids, require, run, tool

from snipcheck.harness.kube import schemas as kubeschemas
from snipcheck.model import manifest
from snipcheck.model.manifest import Snippet

pytestmark = [pytest.mark.static, pytest.mark.timeout(120)]

SNIPPETS = manifest.by_check("kubeconform")
# Any attempt to reach the network goes to a closed port and fails fast.
OFFLINE_ENV = {
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "",
}


@pytest.fixture(scope="session")
def schemas() -> Path:
    try:
        return kubeschemas.ensure(K8S_VERSIONS)
    except kubeschemas.SchemaError as exc:
        require(False, f"{exc}")
        raise


def kubeconform(target: Path, version: str, schema_dir: Path) -> tuple[int, dict[str, Any], str]:
    res = run(
        [
            tool("kubeconform"),
            "-strict",
            "-summary",
            "-output",
            "json",
            "-kubernetes-version",
            version,
            "-schema-location",
            str(schema_dir),
            str(target),
        ],
        env=OFFLINE_ENV,
        timeout=60,
    )
    try:
        doc = json.loads(res.stdout)
    except json.JSONDecodeError:
        fail(f"kubeconform printed no JSON:\n{res.describe()}")
    return res.returncode, doc, res.stderr


def messages(doc: dict[str, Any]) -> list[str]:
    return [f"{r.get('kind')}/{r.get('name')}: {r.get('status')}: {r.get('msg')}" for r in doc.get("resources", [])]


def verdict(code: int, doc: dict[str, Any]) -> str | None:
    """None when the input is valid; otherwise why not."""
    s = doc.get("summary", {})
    if code != 0 or s.get("invalid") or s.get("errors") or s.get("skipped"):
        return "; ".join(messages(doc)) or f"exit {code}, summary {s}"
    if not s.get("valid"):
        return "no Kubernetes resource found"
    return None


def kustomize_build(directory: Path, out: Path) -> Path:
    """`kustomize build DIRECTORY` written to OUT (a kustomization itself has no schema)."""
    res = run([tool("kustomize"), "build", str(directory)], timeout=60)
    if res.returncode != 0:
        fail(f"`kustomize build {directory}` failed:\n{res.describe()}")
    out.write_text(res.stdout, encoding="utf-8")
    return out


def target_of(snippet: Snippet, tmp_path: Path) -> Path:
    if snippet.kind != "kustomization":
        return snippet.file
    return kustomize_build(snippet.file.parent, tmp_path / "kustomize-build.yaml")


@pytest.mark.check("kubeconform")
@pytest.mark.parametrize("snippet", SNIPPETS, ids=ids(SNIPPETS))
def test_kubeconform(snippet: Snippet, schemas: Path, tmp_path: Path, measure: dict[str, Any]) -> None:
    target = target_of(snippet, tmp_path)
    results: dict[str, str | None] = {}
    for version in K8S_VERSIONS:
        code, doc, _ = kubeconform(target, version, schemas)
        results[version] = verdict(code, doc)
        measure.setdefault("resources", doc.get("summary", {}).get("valid", 0))
    measure["kubernetes_versions"] = list(K8S_VERSIONS)
    wanted = expected_failure(snippet, "kubeconform_error")
    if wanted:
        accepted = [v for v, why in results.items() if why is None]
        if accepted:
            fail(
                f"{snippet.path}: the text says this manifest is wrong ({snippet.claim}), "
                f"but kubeconform accepts it for Kubernetes {accepted}"
            )
        text = "\n".join(str(v) for v in results.values())
        measure["kubeconform_errors"] = text[-800:]
        if str(wanted) not in text:
            fail(f"{snippet.path}: expected `{wanted}` in kubeconform's verdict, got:\n{text}")
        return
    bad = {v: why for v, why in results.items() if why}
    if bad:
        fail(
            f"{snippet.path}: kubeconform -strict rejects it:\n"
            + "\n".join(f"  Kubernetes {v}: {why}" for v, why in bad.items())
        )


# ---- the check rejects broken manifests, with standalone schemas, offline ----------------------

GOOD = VALID_MANIFESTS

BROKEN = {
    "misspelled field": (GOOD.replace("replicas: 2", "replicaz: 2"), "replicaz"),
    "wrong apiVersion": (
        GOOD.replace("apiVersion: apps/v1\nkind: Deployment", "apiVersion: extensions/v1beta1\nkind: Deployment"),
        "schema",
    ),
    "kind without a schema": (
        GOOD + "---\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\n"
        "metadata: {name: myapp}\nspec: {endpoints: [{port: metrics}]}\n",
        "could not find schema",
    ),
    "missing required field": (
        GOOD.replace("          image: myapp:1.0.0\n", "").replace(
            "        - name: myapp\n", "        - image: myapp:1.0.0\n"
        ),
        "name",
    ),
}


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_kubeconform_accepts_the_reference_manifest(version: str, schemas: Path, tmp_path: Path) -> None:
    f = tmp_path / "good.yaml"
    f.write_text(GOOD, encoding="utf-8")
    code, doc, stderr = kubeconform(f, version, schemas)
    assert verdict(code, doc) is None, f"{messages(doc)} {stderr}"
    assert doc["summary"]["valid"] == 3


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_kubeconform_rejects(case: str, version: str, schemas: Path, tmp_path: Path) -> None:
    text, hint = BROKEN[case]
    assert text != GOOD
    f = tmp_path / "broken.yaml"
    f.write_text(text, encoding="utf-8")
    code, doc, _ = kubeconform(f, version, schemas)
    why = verdict(code, doc)
    assert why is not None, f"{case} was accepted by Kubernetes {version} schemas"
    assert hint in why, why


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_schemas_are_standalone(version: str, schemas: Path) -> None:
    folder = schemas / f"v{version}-standalone-strict"
    files = sorted(folder.glob("*.json"))
    for kind in (
        "deployment-apps-v1",
        "service-v1",
        "ingress-networking-v1",
        "horizontalpodautoscaler-autoscaling-v2",
        "configmap-v1",
        "secret-v1",
        "pod-v1",
    ):
        assert (folder / f"{kind}.json").is_file(), f"no schema for {kind} in {folder}"
    remote = [f.name for f in files if "kubernetes.io" in f.read_text(encoding="utf-8")]
    assert not remote, f"schemas still mention kubernetes.io: {remote[:10]}"
    with_id = [f.name for f in files if '"$id"' in f.read_text(encoding="utf-8")]
    assert not with_id, f"schemas still carry $id: {with_id[:10]}"


def test_kubeconform_is_offline(schemas: Path, tmp_path: Path) -> None:
    """A schema that still points at kubernetes.io fails when the network is cut, ours do not."""
    version = K8S_VERSIONS[0]
    good = tmp_path / "good.yaml"
    good.write_text(GOOD.split("---")[0], encoding="utf-8")
    code, doc, _ = kubeconform(good, version, schemas)
    assert verdict(code, doc) is None, messages(doc)

    raw = tmp_path / "raw" / f"v{version}-standalone-strict"
    raw.mkdir(parents=True)
    shutil.copy(kubeschemas.wheel_schemas() / f"v{version}-local-strict" / "deployment-apps-v1.json", raw)
    code, doc, _ = kubeconform(good, version, raw.parent)
    assert verdict(code, doc) is not None, (
        "a schema with remote $refs validated with the network cut: the offline proof is void"
    )


def test_kustomize_output_is_validated(schemas: Path, tmp_path: Path) -> None:
    (tmp_path / "deployment.yaml").write_text(GOOD.split("---")[0], encoding="utf-8")
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [deployment.yaml]\n"
        "images:\n  - {name: myapp, newTag: 1.0.1}\ncommonLabels: {team: go}\n",
        encoding="utf-8",
    )
    target = kustomize_build(tmp_path, tmp_path / "build.yaml")
    code, doc, _ = kubeconform(target, K8S_VERSIONS[-1], schemas)
    assert verdict(code, doc) is None, messages(doc)
    assert "1.0.1" in target.read_text(encoding="utf-8")
