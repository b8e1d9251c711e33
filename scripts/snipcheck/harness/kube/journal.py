"""The node's hold on the host: one node per network namespace, and a journal that outlives a killed run.

A node changes machine-wide state (hoststate) and `Node.stop()` puts it back. When the run is killed
before that (SIGKILL, a CI timeout, the machine's session ending), the chains, sysctls, links and
processes stay, and the next run on the host would find "Kubernetes networking of its own". So:

- `HostLock`: an abstract Unix socket named `@snipcheck-node`. Abstract names belong to the network
  namespace, which is exactly what two nodes would fight over (kube-proxy's chains, the pod subnet, the
  Service route), also when the two runs see different file systems (two containers on one host network);
  the kernel releases the name when its process dies, however it dies.
- `write()` records, before the node changes anything, the host's state, the node's work directory and
  who wrote it (boot id, pid, start time) in JOURNAL, in root's private directory /run/snipcheck
  (snipcheck.harness.privatedir: no other user can plant or replace it); `Node.stop()` removes it once the host
  is put back (and keeps it when something is not, so that the next node's start tries again).
- `load()` reads a journal and trusts nothing in it that the node cannot have written: the sysctl keys
  are the node's (hoststate.SYSCTLS) with numeric values, the work directory is TMPDIR/snipcheck-node-XXXXXXXX
  and root's, the directories are hoststate.PATHS. A journal of an earlier boot is `stale` (what it
  describes went with the reboot but its directories); one older than MAX_AGE_S is acted on only with
  SNIPCHECK_NODE_RECOVER=1.
- `recover()`, called with the lock held and after kubenode has made sure no other Kubernetes runs on the
  host, kills the processes the dead node started (its binaries, running from its work directory, started
  after the journal was written), puts the host back to the recorded state, and says what it did.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .. import privatedir, procid, saferm
from . import hoststate
from .controlplane import KubeError

LOCK_NAME = b"\0snipcheck-node"
JOURNAL = privatedir.STATE_DIR / "node.json"
WORKDIR_PREFIX = "snipcheck-node-"  # kubeclaim.claim_host makes TMPDIR/snipcheck-node-XXXXXXXX
WORKDIR_NAME = re.compile(rf"{WORKDIR_PREFIX}[a-z0-9_]{{8}}")  # tempfile.mkdtemp's eight characters
MAX_AGE_S = 12 * 3600
RECOVER_ENV = "SNIPCHECK_NODE_RECOVER"
# The programs a node runs outside its Pods (kubeapi.ControlPlane, kubenode.Node): only these are killed.
NODE_PROGRAMS = frozenset(
    {
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kubelet",
        "kube-proxy",
        "containerd",
        "containerd-shim-runc-v2",
        "runc",
    }
)


# Kernel modules a node may load (kubenode: br_netfilter for bridge-nf-call-iptables); a journal naming
# another is refused.
NODE_MODULES = frozenset({"br_netfilter"})


class JournalError(KubeError):
    """A journal that cannot be trusted or acted on: nothing is changed, the message says what to do."""


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


@dataclass(frozen=True)
class Journal:
    path: Path
    writer: procid.ProcId
    written: float  # seconds after boot (procid.boot_seconds)
    workdir: Path
    before: hoststate.HostState
    modules: frozenset[str] = frozenset()  # loaded by the node: unloaded by the recovery

    @property
    def stale(self) -> bool:
        """Written before the last reboot: its processes, links, rules, sysctls and cgroups are gone."""
        return self.writer.boot != procid.boot_id()

    @property
    def age(self) -> float:
        return procid.boot_seconds() - self.written


def write(
    workdir: Path, before: hoststate.HostState, journal: Path | None = None, modules: frozenset[str] = frozenset()
) -> None:
    """Record what `recover()` needs, atomically, in root's private directory (default JOURNAL); written
    again with `modules` when the node loads a kernel module (a killed node's module stays otherwise)."""
    journal = journal or JOURNAL
    writer = procid.ProcId.of(os.getpid())
    assert writer is not None
    data = {
        "writer": str(writer),
        "written": procid.boot_seconds(),
        "tmpdir": str(workdir.parent),
        "workdir": str(workdir),
        "before": before.to_json(),
        "modules": sorted(modules),
    }
    privatedir.write(journal, json.dumps(data).encode())


def remove(journal: Path | None = None) -> None:
    (journal or JOURNAL).unlink(missing_ok=True)


def load(journal: Path | None = None) -> Journal | None:
    """The journal a killed run's node left (at `journal`, default JOURNAL), or None. JournalError (and
    nothing changed) when it cannot be trusted: a file another user could have written, or content the
    node cannot have written."""
    journal = journal or JOURNAL
    try:
        raw = privatedir.read(journal)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise JournalError(f"refused the node journal {journal}: {exc}. Nothing was changed.") from None
    try:
        data = json.loads(raw.decode())
        if not isinstance(data, dict):
            raise TypeError("the journal is not a JSON object")
        parsed = Journal(
            journal,
            procid.ProcId.parse(str(data["writer"])),
            float(data["written"]),
            _workdir(data),
            hoststate.HostState.from_json(data["before"]),
            _modules(data.get("modules", [])),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise JournalError(
            f"refused the node journal {journal}: {type(exc).__name__}: {exc}. Nothing was changed. It records "
            "the host's state before a node that was never stopped: put back what `python3 -m json.tool` "
            "shows there by hand, then remove the file"
        ) from None
    return parsed


def _modules(value: object) -> frozenset[str]:
    if not isinstance(value, list) or not set(map(str, value)) <= NODE_MODULES:
        raise ValueError(f"modules {value!r}: a node loads only {sorted(NODE_MODULES)}")
    return frozenset(map(str, value))


def _workdir(data: dict[str, object]) -> Path:
    tmpdir, workdir = Path(str(data["tmpdir"])), Path(str(data["workdir"]))
    if not tmpdir.is_absolute() or workdir.parent != tmpdir or not WORKDIR_NAME.fullmatch(workdir.name):
        raise ValueError(f"{workdir} is not a node's work directory ({tmpdir}/{WORKDIR_PREFIX}XXXXXXXX)")
    with contextlib.suppress(FileNotFoundError):
        st = workdir.lstat()
        if workdir.is_symlink() or not workdir.is_dir() or st.st_uid != os.geteuid():
            raise ValueError(f"{workdir} is not a directory of this run's user (a symlink, or someone else's)")
    return workdir


def recover(journal: Journal) -> list[str]:
    """Put back what a killed run's node left (see the module's docstring); returns what it did.
    Call it with the HostLock held, once kubenode has refused a host where another Kubernetes runs."""
    who = f"a run (pid {journal.writer.pid}) ended without stopping its node (work directory {journal.workdir})"
    if journal.stale:
        return _forget_stale(journal, who)
    if journal.age > MAX_AGE_S and os.environ.get(RECOVER_ENV) != "1":
        raise JournalError(
            f"{journal.path}: {who} {journal.age / 3600:.0f} h ago. Nothing was changed: so long after, the host "
            f"may hold other software's state of the same kinds. Check `python3 -m json.tool {journal.path}`, "
            f"then run again with {RECOVER_ENV}=1 to let the run put the host back, or remove the file"
        )
    done = [who]
    done += [f"killed {line}" for line in kill_node_processes(journal.workdir, journal.written)]
    done += hoststate.restore(journal.before, journal.workdir)
    for module in sorted(journal.modules):
        res = subprocess.run(["modprobe", "-r", module], capture_output=True, text=True, timeout=60)
        done.append(f"unloaded {module}" if res.returncode == 0 else f"could not unload {module}: {res.stderr.strip()}")
    try:
        saferm.remove_tree(journal.workdir, unmount=True)
    except OSError as exc:
        done.append(f"could not remove {journal.workdir}: {exc}")
    left = hoststate.HostState.record().differences(journal.before, journal.workdir)
    done += [f"still not as before: {d}" for d in left]
    remove(journal.path)
    return done


def _forget_stale(journal: Journal, who: str) -> list[str]:
    """A journal from before a reboot: what lived in memory is gone; its work directory (root's, checked
    by load) is removed; the directories the node may have made on disk are named, not removed — after a
    reboot nothing proves they are the node's."""
    done = [f"{who}, before the last reboot: its processes, links, rules, sysctls and cgroups went with it"]
    if journal.workdir.exists():
        try:
            saferm.remove_tree(journal.workdir)
            done.append(f"removed {journal.workdir}")
        except OSError as exc:
            done.append(f"could not remove {journal.workdir}: {exc}")
    new = sorted(p for p in hoststate.PATHS if os.path.lexists(p) and p not in journal.before.paths)
    if new:
        done.append(f"not there before that node, check and remove by hand if they are its: {', '.join(new)}")
    remove(journal.path)
    return done


def kill_node_processes(workdir: Path, since: float, grace: float = 10) -> list[str]:
    """SIGKILL the node's processes: programs of NODE_PROGRAMS whose working directory or command line lies
    in `workdir` and that started after `since` (seconds after boot); wait until they are gone. A shell
    sitting in the directory, or any other program, is left alone."""
    prefix = f"{workdir}/"
    victims: dict[int, tuple[procid.ProcId, str]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        pid = int(proc.name)
        try:
            program = (proc / "exe").readlink().name.removesuffix(" (deleted)")
            cwd = str((proc / "cwd").readlink())
        except OSError:
            continue  # gone, or a kernel thread
        ident, started = procid.ProcId.of(pid), procid.started_seconds(pid)
        if ident is None or started is None or program not in NODE_PROGRAMS or started + 1 < since:
            continue
        cmdline = ident.cmdline()
        if f"{cwd}/".startswith(prefix) or prefix in cmdline:
            victims[pid] = (ident, cmdline[:120])
    for ident, _ in victims.values():
        if ident.is_alive():  # still that process, not a pid taken since
            with contextlib.suppress(ProcessLookupError):
                os.kill(ident.pid, signal.SIGKILL)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(ident.is_alive() for ident, _ in victims.values()):
        time.sleep(0.2)
    return [f"pid {pid}: {cmd}" for pid, (_, cmd) in sorted(victims.items())]
