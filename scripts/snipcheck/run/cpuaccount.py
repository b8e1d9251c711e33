"""Where a run's CPU time goes, from the kernel's BSD process accounting (acct(2)).

`python -m snipcheck cpu-account run -- CMD…` switches accounting on into a file, runs CMD, switches it off
(also on Ctrl-C or an error) and prints the summary; `… cpu-account report FILE` summarises a file again.
Every process on the machine that exits while accounting is on (anything else running is counted too,
and only one accounting file can be on at a time) leaves one record — its command name (15 characters), its
parent's pid, its user and system CPU time — processes in containers included (the kernel writes each
record to the accounting file of every pid namespace up to the host's). A process still running at the
end (dockerd, containerd) leaves none: its time is in /proc/PID/stat.

The summary groups CPU time by command, and the Go toolchain's time (compile, link, asm, cgo, vet, cc1) by
where the build ran, from the chain of recorded parents: a BuildKit `RUN` step (its shell's parent is the
OCI runtime, `runc`), a container (a containerd shim above it), or the host. The records carry no
arguments, so one `go build` is one `go` process.
Root only (acct needs CAP_SYS_PACCT). Only the v3 record format (Linux's default since 2.6.8) is read.
"""

from __future__ import annotations

import ctypes
import os
import struct
import subprocess
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

# struct acct_v3 (linux/acct.h): flag, version, tty, exitcode, uid, gid, pid, ppid, btime, etime (float),
# utime, stime, mem, io, rw, minflt, majflt, swaps (comp_t each), comm[16]
RECORD = struct.Struct("<BBHIIIIIIf8H16s")
ACCT_VERSION = 3
AHZ = 100  # comp_t times are in these ticks per second
TOOLCHAIN = frozenset({"compile", "link", "asm", "cgo", "vet", "cc1", "cc1plus", "as", "ld", "collect2"})


class AccountError(RuntimeError):
    """Accounting could not be switched on, or a file is not in the v3 format."""


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    start: int  # epoch seconds
    comm: str
    cpu: float  # user + system seconds


def _comp(value: int) -> int:
    """comp_t: 13-bit mantissa, 3-bit base-8 exponent."""
    return (value & 0x1FFF) << (3 * (value >> 13))


def read(path: Path) -> list[Proc]:
    data = path.read_bytes()
    if len(data) % RECORD.size:
        raise AccountError(f"{path}: {len(data)} bytes is not a whole number of {RECORD.size}-byte acct_v3 records")
    procs = []
    for offset in range(0, len(data), RECORD.size):
        f = RECORD.unpack_from(data, offset)
        if f[1] != ACCT_VERSION:
            raise AccountError(f"{path}: record {offset // RECORD.size} has version {f[1]}, only v3 is read")
        comm = f[-1].split(b"\0", 1)[0].decode(errors="replace")
        procs.append(Proc(pid=f[6], ppid=f[7], start=f[8], comm=comm, cpu=(_comp(f[10]) + _comp(f[11])) / AHZ))
    return procs


def _parents(procs: list[Proc]) -> list[int | None]:
    """The index of each record's parent record: of the processes with its parent's pid, the one started
    last but not after it (pids are reused over a long run); None when the parent left no record."""
    by_pid: dict[int, list[int]] = defaultdict(list)
    for i, p in enumerate(procs):
        by_pid[p.pid].append(i)
    out: list[int | None] = []
    for i, p in enumerate(procs):
        cands = [j for j in by_pid.get(p.ppid, []) if j != i and procs[j].start <= p.start]
        out.append(max(cands, key=lambda j: procs[j].start) if cands else None)
    return out


def where_built(procs: list[Proc]) -> Counter[str]:
    """CPU seconds of the Go/C toolchain by where it ran: 'BuildKit RUN' (BuildKit starts a step's process
    with runc directly), 'container' (under a containerd shim: `docker run`, compose) or 'host'."""
    parent = _parents(procs)
    out: Counter[str] = Counter()
    for i, p in enumerate(procs):
        if p.comm not in TOOLCHAIN:
            continue
        chain, j = [], parent[i]
        while j is not None and len(chain) < 8:
            chain.append(procs[j].comm)
            j = parent[j]
        if any(c == "runc" or c.startswith("runc:") for c in chain):
            out["BuildKit RUN"] += p.cpu
        elif any(c.startswith("containerd-shim") for c in chain):
            out["container"] += p.cpu
        else:
            out["host"] += p.cpu
    return out


def summary(procs: list[Proc], top: int = 15) -> str:
    per: Counter[str] = Counter()
    count: Counter[str] = Counter()
    for p in procs:
        per[p.comm] += p.cpu
        count[p.comm] += 1
    total = sum(per.values())
    lines = [f"{len(procs)} processes exited, {total:.1f} CPU-seconds"]
    lines += [
        f"{cpu:9.1f} s {100 * cpu / total if total else 0:5.1f} %  {count[c]:6d} × {c}"
        for c, cpu in per.most_common(top)
    ]
    built = where_built(procs)
    if built:
        lines.append("Go/C toolchain by where it ran: " + ", ".join(f"{k} {v:.0f} s" for k, v in built.most_common()))
    return "\n".join(lines)


def _acct(path: Path | None) -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    if libc.acct(str(path).encode() if path else None) != 0:
        err = ctypes.get_errno()
        raise AccountError(f"acct({path}): {os.strerror(err)} (root only: CAP_SYS_PACCT)")


def run(cmd: list[str], out: Path) -> int:
    """Run `cmd` with accounting on into `out`; accounting is switched off however it ends."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"")
    _acct(out)
    try:
        return subprocess.run(cmd).returncode
    finally:
        _acct(None)
