"""The cluster check can fail: the API server rejects what schemas let through, with its own message.

Each case breaks one thing in a reference set of objects that the server accepts; the server's
message must name the fault. kubeconform accepts the first four (they are valid against the
OpenAPI schemas); only the API server's validation and admission catch them.
Also shown: the verdict for an anti-pattern (expect: fails) and for a namespace nothing creates,
and that the control plane leaves nothing behind and names the process that failed to start.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from clustertools import (
    Objects,
    create_namespaces,
    dry_run,
    judge,
    parse,
    pod_security_warnings,
    server_message,
    verdict,
)
from k8s_reference import VALID_MANIFESTS

from snipcheck.harness.kube import controlplane as kubeapi
from snipcheck.harness.kube import process as kubeprocess
from snipcheck.harness.kube.controlplane import ControlPlane
from snipcheck.model.manifest import Snippet

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(180)]

GOOD = VALID_MANIFESTS

MISSING_NS = f"nowhere-{secrets.token_hex(3)}"
# case -> (broken text, a phrase of the API server's message)
BROKEN = {
    "selector does not match template labels": (
        GOOD.replace("matchLabels: {app: myapp}", "matchLabels: {app: other}"),
        "`selector` does not match template `labels`",
    ),
    "HPA maxReplicas below minReplicas": (
        GOOD.replace("maxReplicas: 5", "maxReplicas: 1"),
        "must be greater than or equal to `minReplicas`",
    ),
    "Ingress backend without a port": (GOOD.replace(", port: {number: 80}", ""), "port name or number is required"),
    "invalid object name": (
        GOOD.replace("metadata:\n  name: myapp", "metadata:\n  name: My_App"),
        "a lowercase RFC 1123 subdomain",
    ),
    "unknown field": (  # server-side apply builds a typed patch: an undeclared field is an error
        GOOD.replace("replicas: 2", "replicaz: 2"),
        ".spec.replicaz: field not declared in schema",
    ),
    "namespace that does not exist": (
        GOOD.replace("metadata:\n  name: myapp", f"metadata:\n  name: myapp\n  namespace: {MISSING_NS}"),
        f'namespaces "{MISSING_NS}" not found',
    ),
}


def test_reference_objects_are_accepted(control_plane: ControlPlane) -> None:
    res = dry_run(control_plane, GOOD)
    assert res.returncode == 0, res.describe()
    assert "deployment.apps/myapp serverside-applied (server dry run)" in res.stdout, res.describe()
    assert res.stdout.count("(server dry run)") == 3, res.describe()


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_apiserver_rejects(case: str, control_plane: ControlPlane) -> None:
    text, message = BROKEN[case]
    assert text != GOOD, f"the {case} mutation did not change the reference text"
    res = dry_run(control_plane, text)
    assert res.returncode != 0, f"{case}: accepted by the API server:\n{res.describe()}"
    assert message in server_message(res), f"{case}: expected `{message}`:\n{res.describe()}"


RESTRICTED_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: myapp, namespace: NS}
spec:
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    seccompProfile: {type: RuntimeDefault}
  containers:
    - name: myapp
      image: ghcr.io/myorg/myapp:v1.0.0
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {drop: [ALL]}
"""
WITHOUT_SECCOMP = RESTRICTED_POD.replace("    seccompProfile: {type: RuntimeDefault}\n", "")


def _as_deployment(pod: str) -> str:
    spec = "\n".join("    " + line for line in pod.split("spec:\n", 1)[1].splitlines())
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: myapp, namespace: NS}\nspec:\n"
        "  selector: {matchLabels: {app: myapp}}\n  template:\n    metadata: {labels: {app: myapp}}\n"
        f"    spec:\n{spec}\n"
    )


def test_pod_security_restricted_rejects_what_breaks_it(control_plane: ControlPlane) -> None:
    """A namespace labelled as the chapter's are (enforce and warn `restricted`): the server admits the
    compliant Pod, rejects the same Pod without a seccomp profile naming the rule, and warns about a
    Deployment whose Pods it would reject (enforce applies to Pods only) — which fails the chapter's check."""
    ns = f"restricted-{secrets.token_hex(3)}"
    labels = {"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "restricted"}
    create_namespaces(control_plane, {ns}, {ns: {"apiVersion": "v1", "kind": "Namespace",
                                                 "metadata": {"name": ns, "labels": labels}}})  # fmt: skip
    try:
        assert WITHOUT_SECCOMP != RESTRICTED_POD
        good = dry_run(control_plane, RESTRICTED_POD.replace("NS", ns))
        assert good.returncode == 0 and not pod_security_warnings(good), good.describe()
        bad = dry_run(control_plane, WITHOUT_SECCOMP.replace("NS", ns))
        assert bad.returncode != 0, f"a Pod without seccompProfile was admitted:\n{bad.describe()}"
        said = server_message(bad)
        assert 'violates PodSecurity "restricted:' in said and "seccompProfile" in said, bad.describe()
        workload = dry_run(control_plane, _as_deployment(WITHOUT_SECCOMP).replace("NS", ns))
        assert workload.returncode == 0, workload.describe()  # enforce does not apply to Deployments ...
        warned = pod_security_warnings(workload)
        assert warned and "seccompProfile" in warned[0], workload.describe()  # ... warn reports them
        obj = Objects(_snippet("works"), "", [{"kind": "Deployment"}])
        assert verdict(obj, set(), workload) is not None, "a PodSecurity warning must fail the verdict"
        compliant = dry_run(control_plane, _as_deployment(RESTRICTED_POD).replace("NS", ns))
        assert compliant.returncode == 0 and not pod_security_warnings(compliant), compliant.describe()
    finally:
        control_plane.kubectl("delete", "namespace", ns, "--wait=false")


def _snippet(expect: str, **settings: object) -> Snippet:
    return Snippet(
        path="kubernetes/example.yaml",
        kind="kubernetes",
        expect=expect,
        checks=["kube-apiserver"],
        manifest=Path("snippets/kubernetes/manifest.yaml"),
        line=1,
        claim="the selector is wrong",
        settings=dict(settings),
    )


def test_verdict_of_an_anti_pattern(control_plane: ControlPlane) -> None:
    """A ❌ manifest passes only when the server rejects it with the message its entry names."""
    text, message = BROKEN["selector does not match template labels"]
    obj = Objects(_snippet("fails"), text, parse(text, "broken"))
    why = verdict(obj, set(), dry_run(control_plane, text))
    assert why is not None and message in why
    version = control_plane.server_version
    assert judge(_snippet("fails", apiserver_error=message), why, version) is None
    wrong = judge(_snippet("fails", apiserver_error="some other message"), why, version)
    assert wrong is not None and "expected `some other message`" in wrong
    accepted = judge(_snippet("fails", apiserver_error=message), None, version)
    assert accepted is not None and "accepts it" in accepted
    # an anti-pattern without apiserver_error misbehaves at run time: its objects must be valid
    assert judge(_snippet("fails"), why, version) is not None
    assert judge(_snippet("works"), None, version) is None


def test_namespace_created_by_no_snippet_is_a_finding(control_plane: ControlPlane) -> None:
    """Even if the namespace exists on the server, a snippet set must create the namespaces it names."""
    text = GOOD.replace("metadata:\n  name: myapp", "metadata:\n  name: myapp\n  namespace: kube-system")
    obj = Objects(_snippet("works"), text, parse(text, "namespaced"))
    res = dry_run(control_plane, obj.text)
    assert res.returncode == 0, res.describe()  # kube-system exists on every server
    why = verdict(obj, set(), res)
    assert why is not None and "['kube-system'] that no snippet" in why
    assert verdict(obj, {"kube-system"}, res) is None


def test_control_plane_leaves_nothing_behind(kube_tools: kubeapi.Tools) -> None:
    cp = kubeapi.ControlPlane.start(kube_tools)
    workdir, pids = cp.workdir, cp.pids()
    assert all(kubeprocess.process_alive(p) for p in pids) and len(pids) == 2
    assert cp.server_version == kube_tools.version, f"server reports {cp.server_version}"
    cp.stop()
    assert not workdir.exists(), f"{workdir} left behind"
    assert not [p for p in pids if kubeprocess.process_alive(p)], "a control-plane process survived stop()"


def test_failed_start_names_the_process(kube_tools: kubeapi.Tools, tmp_path: Path) -> None:
    fake = tmp_path / "kube-apiserver"
    fake.write_text(
        "#!/bin/sh\necho 'E1201 simulated: --etcd-servers must be specified' >&2\nexit 3\n", encoding="utf-8"
    )
    fake.chmod(0o755)
    broken = kubeapi.Tools(
        kube_tools.version, fake, kube_tools.kubectl, kube_tools.etcd, kube_tools.kube_controller_manager
    )
    parent = tmp_path / "planes"
    parent.mkdir()
    with pytest.raises(kubeapi.KubeError) as err:
        kubeapi.ControlPlane.start(broken, parent)
    assert "kube-apiserver exited with 3" in str(err.value)
    assert "simulated: --etcd-servers must be specified" in str(err.value)
    assert not list(parent.iterdir()), "the failed start left its files (and maybe etcd) behind"
