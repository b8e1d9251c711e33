"""Every Kubernetes manifest and every kustomize output, validated by a real kube-apiserver.

kubeconform (static tier) checks the OpenAPI schemas; the API server also runs the validation and
admission that schemas cannot express: selector vs template labels, HPA min/max, names, namespaces
that exist, unknown fields (server-side apply builds a typed patch; --validate=strict on top), and
Pod Security admission: the namespaces carry the labels the snippets give them (`production` and
`myapp` enforce "restricted"), so a Pod that breaks the level is rejected, and a workload whose Pods
would be gets the server's `would violate PodSecurity` warning, which fails the test too.

Namespaces that a snippet set creates (its Namespace objects) are created for real, with their
`default` ServiceAccount; everything is then applied with `--server-side --dry-run=server`, so no
object but those namespaces is stored. A namespace that nothing in the set creates is a finding.

Manifest settings used (optional): `apiserver_error: text` for expect: fails, the server's message.
"""

from __future__ import annotations

from typing import Any

import pytest
from clustertools import (
    Objects,
    applied,
    create_namespaces,
    dry_run,
    fail,
    ids,
    judge,
    load,
    namespaces_by_set,
    pod_security_warnings,
    server_message,
    verdict,
    written_namespaces,
)

from snipcheck.harness.kube.controlplane import ControlPlane
from snipcheck.model import manifest
from snipcheck.model.manifest import Snippet

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(180)]

SNIPPETS = manifest.by_check("kube-apiserver")


@pytest.fixture(scope="module")
def chapter(control_plane: ControlPlane) -> dict[str, Objects]:
    """The objects of every declared snippet; the namespaces their sets create exist for real."""
    objects = {s.path: load(control_plane, s) for s in SNIPPETS}
    created = set().union(*namespaces_by_set(list(objects.values())).values())
    create_namespaces(control_plane, created, written_namespaces(list(objects.values())))
    return objects


@pytest.mark.check("kube-apiserver")
@pytest.mark.parametrize("snippet", SNIPPETS, ids=ids(SNIPPETS))
def test_apiserver_accepts(
    snippet: Snippet, chapter: dict[str, Objects], control_plane: ControlPlane, measure: dict[str, Any]
) -> None:
    obj = chapter[snippet.path]
    res = dry_run(control_plane, obj.text)
    measure["kubernetes_version"] = control_plane.server_version
    measure["objects"] = len(obj.docs)
    measure["accepted"] = applied(res)
    if res.returncode != 0:
        measure["apiserver_message"] = server_message(res)[-800:]
    why = verdict(obj, namespaces_by_set(list(chapter.values()))[obj.set_name], res)
    warned = pod_security_warnings(res)  # verdict() counts them with every other warning
    if warned:
        measure["pod_security_warnings"] = warned
    problem = judge(snippet, why, control_plane.server_version)
    if problem:
        fail(problem)
