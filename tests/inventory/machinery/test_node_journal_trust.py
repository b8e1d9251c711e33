"""snipcheck.harness.kube.journal and snipcheck.harness.privatedir: a journal is trusted only when nobody else
could have written it and it names only what a node can have made. Every journal here is refused (or, from before a
reboot, only forgotten) and the canaries around it — a file a bad sysctl key points at, a directory a bad
work directory names, a sysctl — are unchanged. None of these tests changes the host: they run as any
user (the planted-by-another-user case needs root to chown and lives in tests/cluster)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from snipcheck.harness import privatedir, procid
from snipcheck.harness.kube import journal as nodejournal

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]


def _state(**changes: object) -> dict[str, object]:
    """A recorded host state as a journal holds it (empty sets, one real sysctl), with `changes`."""
    data: dict[str, object] = {
        "sysctls": {"kernel.panic": "0"},
        "iptables": {"iptables": [["filter", ":INPUT"]]},
        "links": [],
        "netns": [],
        "mounts": ["/"],
        "cgroups": [],
        "paths": [],
        "nft_tables": [],
        "recorded_at": procid.boot_seconds(),
    }
    data.update(changes)
    return data


def _journal(state_dir: Path, workdir: Path, **changes: object) -> Path:
    """Write a journal the way nodejournal.write does (private directory, atomic), with `changes`."""
    writer = procid.ProcId.of(os.getpid())
    data: dict[str, object] = {
        "writer": str(writer),
        "written": procid.boot_seconds(),
        "tmpdir": str(workdir.parent),
        "workdir": str(workdir),
        "before": _state(),
    }
    data.update(changes)
    path = state_dir / "node.json"
    privatedir.write(path, json.dumps(data).encode())
    return path


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return privatedir.ensure(tmp_path / "state")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A node-like work directory (a TMPDIR of the test's own, /snipcheck-node-XXXXXXXX: not the real
    TMPDIR, where the cluster tier counts the nodes' directories)."""
    (tmp_path / "tmp").mkdir()
    path = Path(tempfile.mkdtemp(prefix=nodejournal.WORKDIR_PREFIX, dir=tmp_path / "tmp"))
    (path / "canary").write_text("the node's")
    return path


def test_a_well_formed_journal_of_this_run_is_read(state_dir: Path, workdir: Path) -> None:
    """The positive twin of the refusals below: the same writer, written as the node writes it, loads."""
    journal = nodejournal.load(_journal(state_dir, workdir))
    assert journal is not None and journal.workdir == workdir and not journal.stale
    assert journal.before.sysctls == {"kernel.panic": "0"}
    assert nodejournal.load(state_dir / "absent.json") is None


def test_a_journal_cut_short_is_refused_with_what_to_do(state_dir: Path) -> None:
    path = state_dir / "node.json"
    privatedir.write(path, b'{"writer": "x", "before": {"sysctls": {}')
    with pytest.raises(nodejournal.JournalError, match=f"refused the node journal {path}: .*put back .* by hand"):
        nodejournal.load(path)
    assert path.exists()


@pytest.mark.parametrize(
    ("key", "value", "why"),
    [
        ("/etc/passwd", "0", "is not one the node changes"),
        ("../../etc/shadow", "0", "is not one the node changes"),
        ("kernel.panic", "eve ALL=(ALL) NOPASSWD: ALL", "is not a number"),
    ],
)
def test_a_journal_naming_a_sysctl_the_node_does_not_change_is_refused(
    state_dir: Path, workdir: Path, tmp_path: Path, key: str, value: str, why: str
) -> None:
    """C1 of the security review: `Path('/proc/sys') / key` with a key like '/etc/passwd' is that file,
    which the old restore rewrote as root. Such a journal is refused and nothing is written."""
    canary = tmp_path / "canary"
    canary.write_text("unchanged")
    bad_key = key if not key.startswith("/") else str(canary)
    path = _journal(state_dir, workdir, before=_state(sysctls={bad_key: value}))
    with pytest.raises(nodejournal.JournalError, match=f"refused the node journal {path}: .*{why}.*Nothing was"):
        nodejournal.load(path)
    assert canary.read_text() == "unchanged"
    assert path.exists(), "the journal is kept for whoever looks at it"


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"paths": ["/home"]}, "directories the node does not make"),
        ({"cgroups": ["/sys/fs/cgroup/system.slice"]}, "cgroups that are not a node's"),
        ({"iptables": {"iptables": [["../x", "-A FOO"]]}}, "unknown tables"),
        ({"nft_tables": ["table inet firewalld; flush ruleset"]}, "not `nft list tables` lines"),
        ({"recorded_at": "soon"}, "is not seconds after boot"),
    ],
)
def test_a_journal_naming_state_the_node_cannot_have_recorded_is_refused(
    state_dir: Path, workdir: Path, changes: dict[str, object], why: str
) -> None:
    path = _journal(state_dir, workdir, before=_state(**changes))
    with pytest.raises(nodejournal.JournalError, match=why):
        nodejournal.load(path)


def test_a_journal_naming_a_directory_that_is_not_a_nodes_work_directory_is_refused(
    state_dir: Path, tmp_path: Path
) -> None:
    """Recovery removes the work directory: one that is not TMPDIR/snipcheck-node-XXXXXXXX (someone's
    directory, a look-alike name in another place, a symlink to a directory) is refused and stays."""
    other = tmp_path / "not-a-node"
    other.mkdir()
    (other / "keep").write_text("someone else's file")
    lookalike = tmp_path / "elsewhere" / f"{nodejournal.WORKDIR_PREFIX}abcdefgh"
    lookalike.parent.mkdir()
    lookalike.symlink_to(other)
    for named, tmpdir in ((other, tmp_path), (lookalike, Path(tempfile.gettempdir())), (lookalike, lookalike.parent)):
        path = _journal(state_dir, named, tmpdir=str(tmpdir))
        with pytest.raises(nodejournal.JournalError, match="not a (node's work directory|directory of this run)"):
            nodejournal.load(path)
    assert (other / "keep").read_text() == "someone else's file"


def test_a_journal_in_a_directory_others_can_write_is_refused(tmp_path: Path, workdir: Path) -> None:
    """/run/lock is mode 1777: a journal there may be anybody's. The directory must be private."""
    shared = tmp_path / "lock"
    shared.mkdir()
    privatedir.write(privatedir.ensure(shared) / "node.json", b"{}")
    shared.chmod(0o1777)
    with pytest.raises(nodejournal.JournalError, match="can be written by group or others"):
        nodejournal.load(shared / "node.json")
    with pytest.raises(privatedir.UnsafePath, match="can be written by group or others"):
        privatedir.write(shared / "node.json", b"{}")


def test_a_symlinked_or_writable_journal_is_refused(state_dir: Path, workdir: Path, tmp_path: Path) -> None:
    """A symlink (root would read, and the old code write, its target) and a file others may write are
    refused; reading follows no link."""
    target = _journal(state_dir, workdir)
    link = state_dir / "link.json"
    link.symlink_to(target)
    with pytest.raises(nodejournal.JournalError, match="symlink"):
        nodejournal.load(link)
    target.chmod(0o666)
    with pytest.raises(nodejournal.JournalError, match="writable by others"):
        nodejournal.load(target)


def test_a_journal_from_before_a_reboot_is_forgotten_without_touching_the_host(state_dir: Path, workdir: Path) -> None:
    """Another boot id: the processes, rules, links, sysctls and cgroups it describes went with the
    reboot. Recovery removes only its (checked) work directory and the journal; it restores no sysctl
    (the recorded kernel.panic = 12345 would be written if it did) and names the directories it leaves."""
    writer = procid.ProcId("00000000-0000-0000-0000-000000000000", 4242, 1)
    path = _journal(state_dir, workdir, writer=str(writer), before=_state(sysctls={"kernel.panic": "12345"}))
    journal = nodejournal.load(path)
    assert journal is not None and journal.stale
    panic = Path("/proc/sys/kernel/panic").read_text()
    done = nodejournal.recover(journal)
    assert Path("/proc/sys/kernel/panic").read_text() == panic, done
    assert "before the last reboot" in done[0]
    assert not workdir.exists() and not path.exists(), done


def test_an_old_journal_is_acted_on_only_when_asked(
    state_dir: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same boot, but written long ago: the host may hold other software's state of the node's kinds by
    now. Without SNIPCHECK_NODE_RECOVER=1 nothing is changed and the message says how to go on."""
    monkeypatch.delenv(nodejournal.RECOVER_ENV, raising=False)
    path = _journal(state_dir, workdir, written=procid.boot_seconds() - nodejournal.MAX_AGE_S - 60)
    journal = nodejournal.load(path)
    assert journal is not None
    with pytest.raises(nodejournal.JournalError, match=f"{nodejournal.RECOVER_ENV}=1"):
        nodejournal.recover(journal)
    assert (workdir / "canary").exists() and path.exists()


def test_a_journal_naming_a_module_the_node_does_not_load_is_refused(state_dir: Path, workdir: Path) -> None:
    """Review L10: the module the node loads (br_netfilter) is journaled so that the next run's recovery
    unloads it; the recovery runs `modprobe -r` as root, so only the node's own modules are accepted."""
    ok = nodejournal.load(_journal(state_dir, workdir, modules=["br_netfilter"]))
    assert ok is not None and ok.modules == {"br_netfilter"}
    with pytest.raises(nodejournal.JournalError, match="a node loads only"):
        nodejournal.load(_journal(state_dir, workdir, modules=["br_netfilter", "evil"]))


def test_process_identity_is_pid_start_time_and_boot(tmp_path: Path) -> None:
    """A record of this process is alive; the same pid with another start time or boot is not it."""
    me = procid.ProcId.of(os.getpid())
    assert me is not None and me.is_alive()
    assert procid.ProcId.parse(str(me)) == me
    assert not procid.ProcId(me.boot, me.pid, me.start + 1).is_alive()
    assert not procid.ProcId("00000000-0000-0000-0000-000000000000", me.pid, me.start).is_alive()
    with pytest.raises(ValueError):
        procid.ProcId.parse(f"{me.boot} 0 {me.start}")  # pid 0 would be our own process group
