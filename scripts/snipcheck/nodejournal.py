"""The node's hold on the host: one node per network namespace, and a journal that outlives a killed run.

A node changes machine-wide state (hoststate) and `Node.stop()` puts it back. When the run is killed
before that (SIGKILL, a CI timeout, the machine's session ending), the chains, sysctls, links and
processes stay, and the next run on the host would find "Kubernetes networking of its own". So:

- `HostLock`: an abstract Unix socket named `@snipcheck-node`. Abstract names belong to the network
  namespace, which is exactly what two nodes would fight over (kube-proxy's chains, the pod subnet, the
  Service route), also when the two runs see different file systems (two containers on one host network);
  the kernel releases the name when its process dies, however it dies.
- `write()` records, before the node changes anything, the host's state and the node's work directory
  in JOURNAL; `Node.stop()` removes it once the host is put back (and keeps it when something is not,
  so that the next node's start tries again).
- `recover()`, called with the lock held, finds a journal left by a run that never stopped its node:
  it kills what still runs from that node's work directory (kubelet, containerd and its shims, etcd...),
  puts the host back to the recorded state, and says what it did.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import time
from pathlib import Path

from . import hoststate
from .kubeapi import KubeError, process_alive

LOCK_NAME = b"\0snipcheck-node"
JOURNAL = Path("/run/lock/snipcheck-node.json")
WORKDIR_PREFIX = "snipcheck-node-"  # kubenode.claim_host makes TMPDIR/snipcheck-node-XXXX


class JournalError(KubeError):
    """A journal that cannot be read: nothing is changed, the message says what to do."""


class HostLock:
    """Held while this process keeps the socket; `acquire()` is non-blocking. `name`: an abstract socket
    name (a leading NUL byte); tests of the mechanism use names of their own."""

    def __init__(self, name: bytes = LOCK_NAME) -> None:
        self.name = name
        self._sock: socket.socket | None = None

    @property
    def held(self) -> bool:
        return self._sock is not None

    def acquire(self) -> bool:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # not inherited by the node's processes
        try:
            sock.bind(self.name)
        except OSError:
            sock.close()
            return False
        self._sock = sock
        return True

    def release(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def write(workdir: Path, before: hoststate.HostState, journal: Path = JOURNAL) -> None:
    """Record what `recover()` needs, atomically (a half-written journal is never read)."""
    journal.parent.mkdir(parents=True, exist_ok=True)
    tmp = journal.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "workdir": str(workdir), "before": before.to_json()}))
    tmp.replace(journal)


def remove(journal: Path = JOURNAL) -> None:
    journal.unlink(missing_ok=True)


def recover(journal: Path = JOURNAL) -> list[str]:
    """Put back what a killed run's node left (see the module's docstring); [] when no journal is left.
    Call it with the HostLock held: then no node of a live run uses what it removes."""
    if not journal.exists():
        return []
    try:
        data = json.loads(journal.read_text())
        workdir = Path(data["workdir"])
        before = hoststate.HostState.from_json(data["before"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise JournalError(
            f"{journal}: unreadable ({type(exc).__name__}: {exc}). It records the host's state before a node "
            "that was never stopped: put back what `python3 -m json.tool` shows there by hand, or remove the "
            "file if that node's changes are gone (a reboot clears them)"
        ) from None
    if not workdir.is_absolute() or not workdir.name.startswith(WORKDIR_PREFIX):
        raise JournalError(f"{journal}: {workdir} is not a node's work directory ({WORKDIR_PREFIX}*); remove the file")
    done = [f"a run (pid {data.get('pid')}) ended without stopping its node (work directory {workdir})"]
    done += [f"killed {line}" for line in _kill_processes_of(workdir)]
    done += hoststate.restore(before, workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    left = hoststate.HostState.record().differences(before, workdir)
    done += [f"still not as before: {d}" for d in left]
    remove(journal)
    return done


def _kill_processes_of(workdir: Path, grace: float = 10) -> list[str]:
    """SIGKILL every process whose working directory or command line lies in `workdir` (the node's
    servers run there; containerd's shims name its socket there); wait until they are gone."""
    prefix = f"{workdir}/"
    victims: dict[int, str] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cwd = str((proc / "cwd").readlink())
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue  # gone, or a kernel thread
        if f"{cwd}/".startswith(prefix) or prefix in cmdline:
            victims[int(proc.name)] = cmdline[:120]
    for pid in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(process_alive(p) for p in victims):
        time.sleep(0.2)
    return [f"pid {pid}: {cmd}" for pid, cmd in sorted(victims.items())]
