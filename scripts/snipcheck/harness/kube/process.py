"""The control plane's and the node's server processes: started in a process group of their own, with
a parent-death signal and a record in snipcheck.harness.spawned's registry, stopped by that group only; plus the
small process and socket helpers both use (a free port, a log's tail, HTTP over a Unix socket, openssl)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .. import spawned

SOCKET_PATH_MAX = 107  # sun_path holds 108 bytes with the terminating NUL


class KubeError(RuntimeError):
    """A control-plane process failed to start or to answer; the message carries its last log lines."""


def free_port() -> int:
    """A loopback port free when asked, below the kernel's ephemeral range (see snipcheck.harness.spawned)."""
    return spawned.free_port()


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    handle: IO[bytes]
    record: Path | None = None  # in snipcheck.harness.spawned's registry until stopped

    def died(self) -> str | None:
        code = self.popen.poll()
        return None if code is None else f"{self.name} exited with {code}; last log lines:\n{tail(self.log)}"

    def stop(self, grace: float = 10) -> None:
        """SIGTERM to its process group, SIGKILL after `grace` seconds; closes its log."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        self.handle.close()
        if not group_alive(self.popen.pid):
            spawned.forget(self.record)
            self.record = None


def spawn(workdir: Path, name: str, args: Sequence[str], *, record_workdir: bool = False) -> Proc:
    """Start a server process with its log in `workdir`, in a process group of its own (stopping it
    kills it and anything it started, never other processes). It gets SIGTERM when the thread that
    started it ends (parent-death signal) and is recorded in snipcheck.harness.spawned's registry (with
    `workdir` to remove when a later run reaps it, if `record_workdir`; a node's work directory is
    snipcheck.harness.kube.journal's to put back)."""
    log = workdir / f"{name}.log"
    handle = log.open("wb")
    popen = subprocess.Popen(
        list(args),
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        cwd=workdir,
        preexec_fn=spawned.pdeathsig(signal.SIGTERM),
    )
    proc = Proc(name, popen, log, handle)
    try:
        proc.record = spawned.register(popen.pid, name, workdir if record_workdir else None)
    except BaseException:
        proc.stop(grace=5)
        raise
    return proc


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            if len(str(self._path)) <= SOCKET_PATH_MAX:
                sock.connect(str(self._path))
            else:  # too long for sun_path: through a descriptor of its directory
                dirfd = os.open(self._path.parent, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
                try:
                    sock.connect(f"/proc/self/fd/{dirfd}/{self._path.name}")
                finally:
                    os.close(dirfd)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def unix_http_get(sock: Path, path: str, timeout: float = 2) -> tuple[int, str]:
    """GET `path` from an HTTP server on the Unix socket `sock`: (status, body)."""
    conn = _UnixHTTPConnection(sock, timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def openssl(*args: str) -> None:
    res = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=60)
    if res.returncode != 0:
        raise KubeError(f"openssl {' '.join(args)} failed: {res.stderr}")


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
