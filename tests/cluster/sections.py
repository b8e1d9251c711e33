"""A section of the Kubernetes page applied on the node exactly as the page shows it (test_node.py).

`kubectl apply -f FILE` for each file of the section, nothing added: an object without a namespace goes
where kubectl puts it (`default`), as it would for a reader. The section's dependencies are the only
thing the test provides, under the names its ConfigMap gives: a PostgreSQL stand-in with the section's
own Secret password (a copy of example 3's stand-in, renamed so that neither selects the other's Pods)
and ExternalName Services in the section's namespace that lead to the stand-ins.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import yaml

from snipcheck.harness.kube.node import Node

SUFFIX = "-section"


def namespace_of(doc: dict[str, Any]) -> str:
    """Where `kubectl apply -f` puts the object: its own namespace, or `default` (the kubeconfig has none)."""
    return str((doc.get("metadata") or {}).get("namespace") or "default")


def section_docs(files: list[Path]) -> list[tuple[Path, dict[str, Any]]]:
    return [(f, d) for f in files for d in yaml.safe_load_all(f.read_text(encoding="utf-8")) if d]


def secret_value(secret: dict[str, Any], key: str) -> str:
    if key in (secret.get("stringData") or {}):
        return str(secret["stringData"][key])
    return base64.b64decode(secret["data"][key]).decode()


def renamed_postgres(standins: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Example 3's PostgreSQL stand-in (already filled in) as a second instance: every name and label
    `postgres…` gets SUFFIX, so the two Services select only their own Pods."""
    text = json.dumps([d for d in standins if (d.get("metadata") or {}).get("namespace") == "database"])
    for name in ("postgres-tls", "postgres-init"):
        text = text.replace(f'"{name}"', f'"{name}{SUFFIX}"')
    text = text.replace('"name": "postgres"', f'"name": "postgres{SUFFIX}"')
    text = text.replace('"app": "postgres"', f'"app": "postgres{SUFFIX}"')
    return json.loads(text)


def external_names(namespace: str, targets: dict[str, str]) -> list[dict[str, Any]]:
    """Services `name -> target DNS name` in `namespace`: the names the section's ConfigMap uses."""
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"type": "ExternalName", "externalName": target},
        }
        for name, target in targets.items()
    ]


def ready_endpoints(node: Node, namespace: str, service: str) -> list[str]:
    """The ready endpoints' Pod names of a Service (its EndpointSlices), empty when it selects none."""
    res = node.kubectl(
        "get", "endpointslices", "-n", namespace, "-l", f"kubernetes.io/service-name={service}", "-o", "json"
    )
    if res.returncode != 0:
        return []
    return sorted(
        (ep.get("targetRef") or {}).get("name", "?")
        for sl in json.loads(res.stdout)["items"]
        for ep in sl.get("endpoints") or []
        if (ep.get("conditions") or {}).get("ready")
    )
