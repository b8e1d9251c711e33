"""snipcheck.run.cpuaccount reads acct(2) v3 records and says where the toolchain's CPU time went.

The records are written here in the kernel's layout (linux/acct.h): a BuildKit RUN step (runc → sh → go →
compile), a host build (bash → go → compile) and a container's build (containerd-shim → air → go →
compile), with a time large enough to need comp_t's exponent. `run` is checked with acct itself replaced:
accounting is machine-wide, and a test must not switch off a contributor's own accounting.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from snipcheck.run import cpuaccount
from snipcheck.run.cpuaccount import RECORD

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]


def comp_t(ticks: int) -> int:
    exp = 0
    while ticks > 0x1FFF:
        ticks >>= 3
        exp += 1
    return (exp << 13) | ticks


def record(pid: int, ppid: int, comm: str, seconds: float = 0.0, start: int = 1000, version: int = 3) -> bytes:
    ticks = round(seconds * cpuaccount.AHZ)
    return RECORD.pack(0, version, 0, 0, 0, 0, pid, ppid, start, 1.0, comp_t(ticks), 0, 0, 0, 0, 0, 0, 0, comm.encode())


TREE = [
    # records are written when processes exit: children first
    record(13, 12, "compile", 100.0, start=1002),  # 10000 ticks: beyond comp_t's 13-bit mantissa
    record(12, 11, "go", 1.0, start=1001),
    record(11, 10, "sh", start=1001),
    record(10, 1, "runc", start=1000),
    record(22, 21, "compile", 3.0, start=1003),
    record(21, 20, "go", start=1002),
    record(20, 1, "bash", start=1000),
    record(33, 32, "compile", 2.0, start=1004),
    record(32, 31, "go", start=1003),
    record(31, 30, "air", start=1001),
    record(30, 1, "containerd-shim", start=1000),
    # pid 13 reused later by a host compile whose parent is a later bash: not BuildKit's
    record(13, 40, "compile", 4.0, start=1010),
    record(40, 1, "bash", start=1009),
    # pid 12 reused after its go exited: the BuildKit compile's parent is still the go that came before it
    record(12, 1, "bash", start=1020),
]


def test_where_the_toolchain_ran(tmp_path: Path) -> None:
    f = tmp_path / "pacct"
    f.write_bytes(b"".join(TREE))
    procs = cpuaccount.read(f)
    assert [p.comm for p in procs][:4] == ["compile", "go", "sh", "runc"]
    assert procs[0].cpu == 100.0
    assert cpuaccount.where_built(procs) == {"BuildKit RUN": 100.0, "host": 7.0, "container": 2.0}
    text = cpuaccount.summary(procs)
    assert text.splitlines()[0] == "14 processes exited, 110.0 CPU-seconds"
    assert "BuildKit RUN 100 s, host 7 s, container 2 s" in text


def test_a_file_that_is_not_v3_records_is_named(tmp_path: Path) -> None:
    f = tmp_path / "pacct"
    f.write_bytes(record(1, 0, "x") + b"\0" * 10)
    with pytest.raises(cpuaccount.AccountError, match="not a whole number of 64-byte"):
        cpuaccount.read(f)
    f.write_bytes(record(1, 0, "x", version=2))
    with pytest.raises(cpuaccount.AccountError, match="version 2, only v3"):
        cpuaccount.read(f)


def test_run_switches_accounting_off_however_the_command_ends(tmp_path: Path, monkeypatch) -> None:
    calls: list[Path | None] = []
    monkeypatch.setattr(cpuaccount, "_acct", calls.append)
    out = tmp_path / "a" / "pacct"
    assert cpuaccount.run(["false"], out) == 1
    assert calls == [out, None] and out.exists()
    calls.clear()
    with pytest.raises(FileNotFoundError):
        cpuaccount.run(["/nonexistent/command"], out)
    assert calls == [out, None]
