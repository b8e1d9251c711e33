"""Servers the tests start (PostgreSQL, Redis, etcd, kube-apiserver, ...), recorded so that what a killed run
left running is found and stopped by the next run.

- `start(...)` runs a server as a direct child with `PR_SET_PDEATHSIG`: the kernel signals it when the
  thread that started it ends, even by SIGKILL. Only from the main thread (the signal follows the thread,
  not the process); elsewhere the registry alone covers it.
- `register(pid, ...)` writes one record per server into a private directory (`registry_dir()`): the
  server's ProcId (boot id, pid, start time), its command line, its work directory (path, device and
  inode) and the ProcId of the owning run (the pytest process that started it). `forget(record)` removes
  it when the server was stopped normally.
- `reap()` (each tier calls it at session start, `reap_and_warn()`) goes through the records whose owner
  is no longer running: a server that is still the recorded process (same boot, pid and start time) and
  still has the recorded command line is stopped (its stop signal, SIGKILL after a grace period); a pid
  that another process has taken since is never signalled. The work directory is then removed with
  saferm when it is still the directory the run made. Records of another pid namespace are left alone.
- `free_port()`: a loopback port below the kernel's ephemeral range, free when asked. Ports in that range
  are taken at any moment by outgoing connections; a server that still finds its port taken is restarted
  on another by its caller (each one detects "address already in use" its own way).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from . import privatedir, saferm
from .procid import ProcId

PR_SET_PDEATHSIG = 1
RECORD_SUFFIX = ".json"
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST_PORT = 10000


class SpawnedWarning(UserWarning):
    """What reap() did (or could not do) about a killed run's servers."""


# ---- the registry ------------------------------------------------------------------------------


REGISTRY_ENV = "SNIPCHECK_SPAWNED_DIR"  # another registry (the tests of this module use their own)


def registry_dir() -> Path:
    """The private directory of the records: $SNIPCHECK_SPAWNED_DIR when set, /run/snipcheck/spawned for
    root, else $XDG_RUNTIME_DIR/snipcheck-spawned (when it is the user's) or ~/.cache/snipcheck/spawned.
    Made 0700 when missing; privatedir.UnsafePath when it is there and others can write it."""
    if override := os.environ.get(REGISTRY_ENV):
        return privatedir.ensure(Path(override))
    return privatedir.state_subdir("spawned")


def _pid_namespace() -> int:
    return Path("/proc/self/ns/pid").stat().st_ino


def register(
    pid: int,
    name: str,
    workdir: Path | None = None,
    *,
    stop_signal: int = signal.SIGTERM,
    directory: Path | None = None,
    owner: ProcId | None = None,
) -> Path | None:
    """Record the running server `pid` (owned by `owner`, default this process) with `workdir` to remove
    once it is reaped. Returns the record, or None when `pid` has already exited (nothing to record: the
    caller's wait for the server reports why it died)."""
    server = ProcId.of(pid)
    if server is None:
        return None
    me = owner or ProcId.of(os.getpid())
    assert me is not None
    try:
        leads_group = os.getpgid(pid) == pid
    except ProcessLookupError:
        return None
    record: dict[str, Any] = {
        "name": name,
        "server": str(server),
        "cmdline": server.cmdline(),
        "owner": str(me),
        "pidns": _pid_namespace(),
        "stop_signal": int(stop_signal),
        "group": leads_group,
        "workdir": None,
        "workdir_id": None,
    }
    if workdir is not None:
        st = os.lstat(workdir)
        record["workdir"], record["workdir_id"] = str(Path(workdir).absolute()), [st.st_dev, st.st_ino]
    d = directory or registry_dir()
    path = d / f"{name}-{pid}-{secrets.token_hex(4)}{RECORD_SUFFIX}"
    privatedir.write(path, json.dumps(record, indent=1).encode())
    return path


def forget(record: Path | None) -> None:
    """Remove `record`: its server was stopped by its own run."""
    if record is not None:
        record.unlink(missing_ok=True)


@dataclass(frozen=True)
class Record:
    path: Path
    name: str
    server: ProcId
    cmdline: str
    owner: ProcId
    pidns: int
    stop_signal: int
    group: bool
    workdir: Path | None
    workdir_id: tuple[int, int] | None

    @classmethod
    def read(cls, path: Path) -> Record:
        """ValueError/KeyError/TypeError on a malformed record, privatedir.UnsafePath on one not written so."""
        data = json.loads(privatedir.read(path))
        wid = data.get("workdir_id")
        return cls(
            path=path,
            name=str(data["name"]),
            server=ProcId.parse(data["server"]),
            cmdline=str(data["cmdline"]),
            owner=ProcId.parse(data["owner"]),
            pidns=int(data["pidns"]),
            stop_signal=int(data["stop_signal"]),
            group=bool(data["group"]),
            workdir=Path(data["workdir"]) if data.get("workdir") else None,
            workdir_id=(int(wid[0]), int(wid[1])) if wid else None,
        )

    def describe(self) -> str:
        return f"{self.name} (pid {self.server.pid}: {self.cmdline[:120]})"


def _signal(rec: Record, sig: int) -> None:
    """`sig` to the recorded server, or to its process group when it leads one; only while it is the
    recorded process (checked right before)."""
    if not rec.server.is_alive():
        return
    with contextlib.suppress(ProcessLookupError):
        if rec.group and os.getpgid(rec.server.pid) == rec.server.pid:
            os.killpg(rec.server.pid, sig)
        else:
            os.kill(rec.server.pid, sig)


def _gone_within(proc: ProcId, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while proc.is_alive():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _stop(rec: Record, grace: float) -> str:
    _signal(rec, rec.stop_signal)
    if _gone_within(rec.server, grace):
        return f"stopped {rec.describe()}"
    _signal(rec, signal.SIGKILL)
    if _gone_within(rec.server, 10):
        return f"killed {rec.describe()} (it outlived signal {rec.stop_signal} for {grace:.0f}s)"
    return f"could not stop {rec.describe()}: it outlived SIGKILL; record kept"


def _remove_workdir(rec: Record) -> str:
    if rec.workdir is None:
        return ""
    try:
        st = os.lstat(rec.workdir)
    except FileNotFoundError:
        return ""
    if rec.workdir_id is None or (st.st_dev, st.st_ino) != rec.workdir_id:
        return f"; left {rec.workdir}: it is not the directory that run made (another one has its name now)"
    try:
        saferm.remove_tree(rec.workdir)
    except OSError as exc:
        return f"; could not remove {rec.workdir}: {exc}"
    return f"; removed {rec.workdir}"


def reap(directory: Path | None = None, grace: float = 10.0) -> list[str]:
    """Stop the servers of runs that are no longer running and remove their work directories (see the
    module's doc). Returns one line per record it handled."""
    d = directory or registry_dir()
    done: list[str] = []
    here = _pid_namespace()
    for path in sorted(d.glob(f"*{RECORD_SUFFIX}")):
        try:
            rec = Record.read(path)
        except FileNotFoundError:
            continue  # another run's reap took it
        except privatedir.UnsafePath as exc:
            done.append(f"ignored {path}: {exc}")
            continue
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            path.unlink(missing_ok=True)
            done.append(f"removed {path}: not a server record ({type(exc).__name__}: {exc})")
            continue
        if rec.pidns != here or rec.owner.is_alive():
            continue  # its run is still going (or lives in another pid namespace: its pids are not ours)
        claimed = path.with_name(f".reaping-{os.getpid()}-{path.name}")
        try:
            path.rename(claimed)  # one reaper per record when several workers start at once
        except FileNotFoundError:
            continue
        owner = f"of a run that is gone (pid {rec.owner.pid})"
        if not rec.server.is_alive():
            line = f"{rec.name} (pid {rec.server.pid}) {owner} had already exited"
            line += _remove_workdir(rec)
        elif rec.server.cmdline() != rec.cmdline:
            line = (
                f"left pid {rec.server.pid} alone: the {rec.name} {owner} now runs "
                f"{rec.server.cmdline()[:120]!r}, not the recorded {rec.cmdline[:120]!r}"
            )
        else:
            line = _stop(rec, grace) + f" {owner}"
            if rec.server.is_alive():
                claimed.rename(path)
                done.append(line)
                continue
            line += _remove_workdir(rec)
        claimed.unlink(missing_ok=True)
        done.append(line)
    return done


def reap_and_warn() -> list[str]:
    """reap() at a tier's session start; what it did is shown as pytest warnings (SpawnedWarning)."""
    try:
        done = reap()
    except OSError as exc:
        warnings.warn(f"could not look for the servers of killed runs: {exc}", SpawnedWarning, stacklevel=2)
        return []
    for line in done:
        warnings.warn(f"servers of killed runs: {line}", SpawnedWarning, stacklevel=2)
    return done


# ---- starting servers --------------------------------------------------------------------------


def pdeathsig(sig: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A preexec_fn that makes the child get `sig` when the calling thread ends; None off the main thread
    (a worker thread that ends would take the server with it)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the prctl took effect
            os.kill(os.getpid(), sig)

    return preexec


@dataclass
class Server:
    """A server started by `start`: a direct child, recorded until `stop()`."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    record: Path | None
    stop_signal: int
    handle: IO[bytes]

    @property
    def pid(self) -> int:
        return self.popen.pid

    def died(self) -> str | None:
        """None while it runs, else its exit code and last log lines."""
        code = self.popen.poll()
        return None if code is None else f"{self.name} exited with {code}; last log lines:\n{self.tail()}"

    def tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, grace: float = 15.0) -> int | None:
        """Its stop signal, SIGKILL after `grace` seconds; then its record is removed."""
        if self.popen.poll() is None:
            self.popen.send_signal(self.stop_signal)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
        self.handle.close()
        forget(self.record)
        self.record = None
        return self.popen.returncode


def start(
    name: str,
    args: Sequence[str],
    *,
    log: Path,
    workdir: Path | None = None,
    stop_signal: int = signal.SIGTERM,
    registry: Path | None = None,
    **popen: Any,
) -> Server:
    """Start `args` as a direct child (stdout and stderr to `log`, parent-death signal = `stop_signal`) and
    record it with `workdir` (removed when a later run reaps it) in `registry` (default: registry_dir()).
    `popen`: more subprocess.Popen arguments (cwd, env, user, group, ...)."""
    handle = log.open("ab")
    try:
        proc = subprocess.Popen(
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            preexec_fn=pdeathsig(stop_signal),
            **popen,
        )
    except BaseException:
        handle.close()
        raise
    server = Server(name, proc, log, None, stop_signal, handle)
    try:
        server.record = register(proc.pid, name, workdir, stop_signal=stop_signal, directory=registry)
    except BaseException:
        server.stop(grace=5)
        raise
    return server


def free_port(host: str = "127.0.0.1") -> int:
    """A port on `host` that nothing listens on now, chosen at random below the kernel's ephemeral range
    (where every outgoing connection takes one); the whole range above 1023 when that leaves too few."""
    try:
        low = int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    first, last = (LOWEST_PORT, low - 1) if low - LOWEST_PORT >= 2000 else (1024, 65535)
    for _ in range(200):
        port = random.randint(first, last)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    raise OSError(f"no free port on {host} in {first}-{last} after 200 tries")


ADDRESS_IN_USE = ("address already in use", "could not bind", "eaddrinuse")


def port_taken(output: str) -> bool:
    """Whether a server's log says it could not bind its port."""
    low = output.lower()
    return any(s in low for s in ADDRESS_IN_USE)
