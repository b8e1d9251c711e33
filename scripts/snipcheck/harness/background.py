"""The record of a background job, so that only that very job is ever waited for or signalled.

scripts/setup.sh builds the Kubernetes binaries in a session of its own; the session's leader (a bash
whose command line names scripts/install-kube.sh) records itself before it starts anything:

    python3 scripts/snipcheck/harness/background.py write build/install-kube.pid $$

The record is one line, snipcheck.harness.procid's "BOOT_ID PID START_TICKS" (field 22 of /proc/PID/stat),
written to a temporary file and renamed into place: never empty, never "0". A pid alone is not trusted:
the record names a running job only while that very process runs (same boot, pid and start time — not a
process that got the pid since, nor one from before a reboot), leads its own process group, and its
command line holds the job's marker (install-kube.sh). Anything else is a stale record: it is reported
and removed, never signalled or waited for.

    python3 scripts/snipcheck/harness/background.py alive FILE [--marker M]   # exit 0: running and ours; 1: not
    python3 scripts/snipcheck/harness/background.py stop FILE [--marker M]    # SIGTERM its group; 1: none ran
    python3 scripts/snipcheck/harness/background.py forget-stale FILE [--marker M]  # drop a record of no job of ours

Python: `check(path, marker)`, `is_running(path, marker)`, `stop(path, marker)`, `forget_stale(path, marker)`
(tests/scheduling.py and snipcheck.harness.kube.controlplane.wait_for_background_build use the same check as
scripts/test.sh).
Standard library and snipcheck.harness.procid only: shell scripts run this file with the system python3.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from pathlib import Path

if __package__:
    from . import procid
else:  # run as a file: its directory, scripts/snipcheck, is sys.path[0]
    import procid  # type: ignore[no-redef]

KUBE_BUILD_MARKER = "install-kube.sh"


def write(path: Path, pid: int) -> procid.ProcId:
    """Record the running process `pid` (a job's group leader) in `path`, atomically."""
    ident = procid.ProcId.of(pid)
    if ident is None:
        raise ValueError(f"{path}: no running process {pid} to record (pid 0 and 1 are never recorded)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(f"{ident}\n")
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return ident


def check(path: Path, marker: str = KUBE_BUILD_MARKER) -> tuple[procid.ProcId | None, str]:
    """(the job's leader, "") when `path` names a running job of ours; else (None, why not) — why is ""
    when there is no record at all."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except FileNotFoundError:
        return None, ""
    try:
        ident = procid.ProcId.parse(text)
    except ValueError:
        return None, f"{path} holds {text[:80]!r}, not a record of a job (BOOT_ID PID START_TICKS)"
    if ident.boot != procid.boot_id():
        return None, f"{path} is from an earlier boot (pid {ident.pid})"
    if not ident.is_alive():
        return None, f"the process {path} names (pid {ident.pid}) has ended or the pid is another process's now"
    cmdline = ident.cmdline()
    if marker not in cmdline:
        return None, f"pid {ident.pid} of {path} does not run {marker} (it runs: {cmdline[:120]!r})"
    try:
        leads = os.getpgid(ident.pid) == ident.pid
    except ProcessLookupError:
        return None, f"the process {path} names (pid {ident.pid}) has ended"
    if not leads:
        return None, f"pid {ident.pid} of {path} does not lead its own process group"
    return ident, ""


def is_running(path: Path, marker: str = KUBE_BUILD_MARKER) -> bool:
    return check(path, marker)[0] is not None


def stop(path: Path, marker: str = KUBE_BUILD_MARKER) -> tuple[bool, str]:
    """SIGTERM the process group of the job `path` names when it is running and ours; the record is removed
    either way. Returns (whether a group was signalled, what was done)."""
    ident, why = check(path, marker)
    path.unlink(missing_ok=True)
    if ident is None:
        return False, f"{why}: nothing to stop; record removed" if why else ""
    try:
        os.killpg(ident.pid, signal.SIGTERM)
    except ProcessLookupError:
        return False, f"the job of {path} (pid {ident.pid}) ended meanwhile; record removed"
    return True, f"stopped process group {ident.pid} ({ident.cmdline()[:120]}); record removed"


def forget_stale(path: Path, marker: str = KUBE_BUILD_MARKER) -> str:
    """Remove `path` when it names no running job of ours; says what was removed ("" when nothing)."""
    ident, why = check(path, marker)
    if ident is not None or not why:
        return ""
    path.unlink(missing_ok=True)
    return f"{why}: stale record removed"


def say(text: str) -> None:
    if text:
        print(f"[background] {text}", file=sys.stderr)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="background.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["write", "alive", "stop", "forget-stale"])
    parser.add_argument("record", type=Path)
    parser.add_argument("pid", type=int, nargs="?", help="write: the job's group leader (in bash: $$)")
    parser.add_argument("--marker", default=KUBE_BUILD_MARKER, help="what the job's command line holds")
    args = parser.parse_args(argv)
    if args.action == "write":
        if args.pid is None:
            parser.error("write needs the pid of the job's group leader")
        try:
            write(args.record, args.pid)
        except (ValueError, OSError) as exc:
            say(f"cannot record the job: {exc}")
            return 1
        return 0
    if args.action == "alive":
        ident, why = check(args.record, args.marker)
        say(why)
        return 0 if ident else 1
    if args.action == "stop":
        stopped, what = stop(args.record, args.marker)
        say(what)
        return 0 if stopped else 1
    say(forget_stale(args.record, args.marker))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
