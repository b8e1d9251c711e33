"""The Kubernetes page's manifests do what the page says when applied as shown — read from the page, not
placed by a harness:

- the page says "the manifests of this and the following sections live in the `production` namespace"
  (docs/kubernetes.md, from the `deployment-manifest` heading on): every object included there is in
  `production` as `kubectl apply -f` puts it (an object without `metadata.namespace` lands in the context's
  namespace, `default`);
- every Service shown selects the Pods of a workload of its part of the page in its own namespace (a
  selector only matches Pods of the Service's namespace).

The NodePort and LoadBalancer Services once had no namespace while the Deployment they front lives in
`production`: applied as shown they had no endpoints (review N1), and server-side dry-run could not see it
because `default` exists. Example 3 (snippets/myapp/k8s/, its kustomization's `namespace:`) is held to the
selector rule too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from snipcheck.model import pages
from snipcheck.model.paths import DOCS, SNIPPETS, rel

pytestmark = [pytest.mark.static, pytest.mark.timeout(60)]

WORKLOADS = {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "StorageClass", "IngressClass"}
DEFAULT = "default"
PAGE = DOCS / "kubernetes.md"
# the page's claim: from this heading on, every manifest lives in this namespace
CLAIM = ("deployment-manifest", "production")

Obj = tuple[Path, dict[str, Any], str]  # file, object, namespace as applied


def load(file: Path, forced: str | None = None) -> list[Obj]:
    out = []
    for obj in yaml.safe_load_all(file.read_text(encoding="utf-8")):
        if isinstance(obj, dict) and "kind" in obj:
            ns = forced or (obj.get("metadata") or {}).get("namespace") or DEFAULT
            out.append((file, obj, "" if obj["kind"] in CLUSTER_SCOPED else ns))
    return out


def page_parts(page: Path, snippets: Path) -> dict[str, list[Path]]:
    """The Kubernetes manifests a page includes, grouped by the part of the page the claim divides it into:
    "before" the claim's heading and "claimed" from it on."""
    text = page.read_text(encoding="utf-8").split("\n")
    start = next(i for i, line in enumerate(text, 1) if line.startswith("## ") and f"#{CLAIM[0]} " in line + " ")
    parts: dict[str, list[Path]] = {"before": [], "claimed": []}
    for inc in pages.includes(page):
        file = snippets / inc.path
        if file.suffix in (".yaml", ".yml") and file.parent == snippets / "kubernetes":
            part = parts["claimed" if inc.line > start else "before"]
            if file not in part:
                part.append(file)
    return parts


def pod_labels(obj: dict[str, Any]) -> dict[str, str]:
    if obj["kind"] == "Pod":
        return (obj.get("metadata") or {}).get("labels") or {}
    template = (obj.get("spec") or {}).get("template") or {}
    return (template.get("metadata") or {}).get("labels") or {}


def namespace_problems(found: list[Obj], namespace: str) -> list[str]:
    return [
        f"{rel(file)}: {obj['kind']} {obj['metadata']['name']} is in "
        + ("`default` (no metadata.namespace: kubectl puts it in the context's namespace)" if ns == DEFAULT else ns)
        + f", but {rel(PAGE)} says the manifests from `#{CLAIM[0]}` on live in `{namespace}` — set its namespace"
        for file, obj, ns in found
        if ns and ns != namespace
    ]


def selector_problems(found: list[Obj]) -> list[str]:
    problems = []
    for file, svc, ns in found:
        selector = (svc.get("spec") or {}).get("selector")
        if svc["kind"] != "Service" or not selector:
            continue
        matches = [
            (f, w_ns) for f, w, w_ns in found if w["kind"] in WORKLOADS and selector.items() <= pod_labels(w).items()
        ]
        if any(w_ns == ns for _, w_ns in matches):
            continue
        where = f"{rel(file)}: Service {svc['metadata']['name']} ({ns}) selects {selector}"
        if matches:
            others = ", ".join(sorted({f"{rel(f)} ({w_ns})" for f, w_ns in matches}))
            problems.append(f"{where}, but those Pods are in another namespace: {others} — it has no endpoints")
        else:
            problems.append(f"{where}: no workload shown with it has those labels — it has no endpoints")
    return problems


def test_the_pages_namespace_claim_holds_as_applied() -> None:
    parts = page_parts(PAGE, SNIPPETS)
    assert parts["claimed"], f"{rel(PAGE)}: no manifest after `#{CLAIM[0]}`"
    found = [o for f in parts["claimed"] for o in load(f)]
    problems = namespace_problems(found, CLAIM[1])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("part", ["before", "claimed", "example 3"])
def test_every_service_selects_pods_in_its_own_namespace(part: str) -> None:
    if part == "example 3":
        folder = SNIPPETS / "myapp" / "k8s"
        k = yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8"))
        found = [o for name in k["resources"] for o in load(folder / name, k.get("namespace"))]
    else:
        found = [o for f in page_parts(PAGE, SNIPPETS)[part] for o in load(f)]
    assert any(obj["kind"] == "Service" for _, obj, _ in found), f"{part}: no Service found"
    problems = selector_problems(found)
    assert not problems, "\n".join(problems)


def test_a_manifest_left_without_its_namespace_is_named(tmp_path: Path) -> None:
    """The original NodePort Service (no namespace), shown after the claim: both rules name it."""
    copy = tmp_path / "snippets" / "kubernetes"
    copy.mkdir(parents=True)
    for f in (SNIPPETS / "kubernetes").glob("*.yaml"):
        (copy / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    svc = copy / "service-nodeport.yaml"
    svc.write_text(svc.read_text(encoding="utf-8").replace("  namespace: production\n", "", 1), encoding="utf-8")
    claimed = [o for f in page_parts(PAGE, tmp_path / "snippets")["claimed"] for o in load(f)]
    ns = namespace_problems(claimed, CLAIM[1])
    assert any("Service myapp-nodeport is in `default`" in p for p in ns), ns
    sel = selector_problems(claimed)
    assert any("Service myapp-nodeport (default)" in p and "no endpoints" in p for p in sel), sel
