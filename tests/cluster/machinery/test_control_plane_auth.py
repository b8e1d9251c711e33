"""The control plane admits nobody but the test client, and dies with the run that started it.

- etcd has no TCP port: its only sockets are in the control plane's 0700 work directory (a local user
  who could write to etcd would write a privileged Pod straight into the cluster).
- kube-apiserver authenticates every request (no anonymous access) and authorizes with Node,RBAC: the
  test client's token is in system:masters; a ServiceAccount's token gets only what RBAC grants it.
- etcd and kube-apiserver are recorded in snipcheck.harness.spawned's registry with this run as their owner, and
  a server started by kubeprocess.spawn gets a parent-death signal although it runs in a session of its own.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import ssl
import stat
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from snipcheck.harness import privatedir, spawned
from snipcheck.harness.kube import controlplane as kubeapi
from snipcheck.harness.kube import process as kubeprocess
from snipcheck.harness.procid import ProcId
from snipcheck.model.paths import SCRIPTS
from support import tcp_listeners

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(120)]


def pid_of(cp: kubeapi.ControlPlane, name: str) -> int:
    pids = [p.popen.pid for p in cp.procs if p.name == name and p.popen.poll() is None]
    assert len(pids) == 1, f"expected one running {name}, found {pids}"
    return pids[0]


def api_status(cp: kubeapi.ControlPlane, path: str, token: str | None) -> int:
    """The API server's HTTP status for GET `path` with `token` (None: no credentials at all)."""
    ctx = ssl.create_default_context(cafile=str(cp.workdir / "certs" / "apiserver.crt"))
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    req = urllib.request.Request(f"https://{cp.address}:{cp.api_port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10, context=ctx) as resp:  # noqa: S310 (loopback)
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


# ---- etcd --------------------------------------------------------------------------------------


def test_etcd_listens_on_no_tcp_port(control_plane: kubeapi.ControlPlane) -> None:
    pid = pid_of(control_plane, "etcd")
    listeners = tcp_listeners(pid)
    assert not listeners, (
        f"etcd (pid {pid}) listens on TCP (hex address:port), where any local user reaches it: {listeners}"
    )


def test_etcd_socket_is_out_of_other_users_reach(control_plane: kubeapi.ControlPlane) -> None:
    sock, workdir = control_plane.etcd_socket, control_plane.workdir
    assert stat.S_ISSOCK(sock.lstat().st_mode), f"{sock} is not etcd's socket"
    st = workdir.stat()
    assert st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) == 0o700, f"{workdir}: {stat.filemode(st.st_mode)}"
    assert kubeprocess.unix_http_get(sock, "/health")[0] == 200  # the owner gets in
    if os.geteuid() != 0:
        pytest.skip("acting as another local user needs root; the 0700 directory above is the user's own")
    probe = f"import socket; s = socket.socket(socket.AF_UNIX); s.connect({str(sock)!r})"
    res = subprocess.run(
        ["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-I", "-c", probe],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert res.returncode != 0, "user nobody connected to etcd's socket"
    assert "PermissionError" in res.stderr, res.stderr


# ---- kube-apiserver ----------------------------------------------------------------------------


def test_requests_without_valid_credentials_get_401(control_plane: kubeapi.ControlPlane) -> None:
    for path in ("/api/v1/namespaces", "/api/v1/secrets", "/readyz", "/version"):
        assert api_status(control_plane, path, None) == 401, f"GET {path} without credentials was not refused"
        assert api_status(control_plane, path, secrets.token_hex(16)) == 401, f"GET {path} with a wrong token"
    kubectl = control_plane.kubectl("get", "namespaces", f"--token={secrets.token_hex(16)}")
    assert kubectl.returncode != 0 and "You must be logged in" in kubectl.stderr, kubectl.describe()


def test_a_service_account_token_cannot_read_secrets(control_plane: kubeapi.ControlPlane) -> None:
    """Every Pod gets its ServiceAccount's token: with AlwaysAllow that was cluster-admin."""
    ns = f"authz-{secrets.token_hex(3)}"
    cp = control_plane
    try:
        for args in (("create", "namespace", ns), ("create", "serviceaccount", "probe", "-n", ns)):
            res = cp.kubectl(*args)
            assert res.returncode == 0, res.describe()
        res = cp.kubectl("create", "token", "probe", "-n", ns, "--duration=10m")
        assert res.returncode == 0, res.describe()
        token = res.stdout.strip()
        assert api_status(cp, "/api", token) == 200, "the ServiceAccount token is not even authenticated"
        for path in ("/api/v1/secrets", f"/api/v1/namespaces/{ns}/secrets", "/api/v1/nodes"):
            assert api_status(cp, path, token) == 403, f"a ServiceAccount token may GET {path}"
        res = cp.kubectl("get", "secrets", "-A", f"--token={token}")
        assert res.returncode != 0 and "Forbidden" in res.stderr, res.describe()
    finally:
        cp.kubectl("delete", "namespace", ns, "--wait=false")


def test_the_test_client_is_cluster_admin(control_plane: kubeapi.ControlPlane) -> None:
    res = control_plane.kubectl("get", "secrets", "-A")
    assert res.returncode == 0, res.describe()
    res = control_plane.kubectl("auth", "can-i", "*", "*", "--all-namespaces")
    assert res.returncode == 0 and res.stdout.strip() == "yes", res.describe()


# ---- a killed run leaves no control plane ------------------------------------------------------


def test_etcd_and_apiserver_are_recorded_with_this_run_as_owner(control_plane: kubeapi.ControlPlane) -> None:
    me = str(ProcId.of(os.getpid()))
    for proc in control_plane.procs:
        assert proc.record is not None and proc.record.exists(), f"{proc.name} is not in the registry"
        record = json.loads(proc.record.read_text())
        assert record["owner"] == me and record["workdir"] == str(control_plane.workdir), record
        assert record["server"] == str(ProcId.of(proc.popen.pid)) and record["group"], record


def test_a_spawned_server_dies_with_its_run_and_the_next_run_reaps_its_workdir(tmp_path: Path) -> None:
    """kubeprocess.spawn puts a server in a session of its own (a process-group kill of the run misses it). A
    run (a python process of this test) spawns a stand-in server (a copy of sleep) and is SIGKILLed."""
    registry = privatedir.ensure(tmp_path / "registry")
    workdir = tmp_path / "work"
    workdir.mkdir()
    exe = tmp_path / f"snipcheck-fake-apiserver-{os.getpid()}"
    shutil.copy2(shutil.which("sleep") or "/bin/sleep", exe)
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from snipcheck.harness.kube import process as kubeprocess
        p = kubeprocess.spawn(Path({str(workdir)!r}), "fake-apiserver", [{str(exe)!r}, "300"], record_workdir=True)
        print(p.popen.pid, flush=True)
        time.sleep(300)
    """)
    env = {**os.environ, "PYTHONPATH": str(SCRIPTS), spawned.REGISTRY_ENV: str(registry)}
    run = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert run.stdout is not None
        server = ProcId.of(int(run.stdout.readline()))
        assert server is not None
        records = [json.loads(p.read_text()) for p in registry.glob("*.json")]
        assert [r["name"] for r in records] == ["fake-apiserver"], records
    finally:
        run.kill()
        run.wait(timeout=10)
    deadline = time.monotonic() + 10
    while server.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    survived = server.is_alive()
    if survived:  # the test's own stand-in: never leave it running
        os.killpg(server.pid, 9)
    assert not survived, "the spawned server outlived the run that started it"
    done = spawned.reap(registry)
    assert not workdir.exists() and list(registry.iterdir()) == [], done
