"""A command run with own_group (debootstrap under mkrootfs.sh) is stopped as a whole on timeout: its
children die with it and its EXIT trap gets to clean up (review M2: the timeout killed only bash, and
debootstrap went on with its mounts while communicate() waited for it)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from snipcheck.harness import proc

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(90)]

# shaped like mkrootfs.sh: an EXIT trap that cleans up, TERM trapped so that the trap runs, a long child
SCRIPT = r"""
set -euo pipefail
cleanup() { echo cleaned > "$1/cleaned"; }
trap 'cleanup "$1"' EXIT
trap 'exit 143' TERM
sleep 40 &
echo $! > "$1/child.pid"
wait
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


def test_timeout_stops_the_whole_group_and_lets_the_trap_clean_up(tmp_path: Path) -> None:
    start = time.monotonic()
    with pytest.raises(proc.CommandError, match="did not finish within 2s"):
        proc.run(["bash", "-c", SCRIPT, "script", str(tmp_path)], timeout=2, own_group=True)
    elapsed = time.monotonic() - start
    child = int((tmp_path / "child.pid").read_text())
    assert elapsed < 20, f"the run came back after {elapsed:.0f}s: it waited for the child instead of stopping it"
    assert not _alive(child), f"the script's child {child} outlived the timeout"
    assert (tmp_path / "cleaned").read_text().strip() == "cleaned", "the script's EXIT trap did not run"


def test_a_finished_command_is_returned_as_it_ended(tmp_path: Path) -> None:
    res = proc.run(["bash", "-c", "echo out; echo err >&2; exit 3"], timeout=10, own_group=True)
    assert (res.returncode, res.stdout, res.stderr) == (3, "out\n", "err\n")
