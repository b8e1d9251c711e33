"""Who a process is, beyond its pid: a pid is reused, so a record names a process by (boot id, pid, start
time). `ProcId.of(pid)` reads it from /proc; `ProcId.is_alive()` is true only while that very process
runs — a record from before a reboot, or a pid another process has taken since, is not it.

Stdlib only (shell scripts call it through snipcheck/background.py before any virtualenv exists).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def boot_id() -> str:
    return BOOT_ID.read_text().strip()


def start_ticks(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (clock ticks after boot), or None when there is no such process or it is
    a zombie. The command name (field 2) may hold spaces and parentheses: fields are read after the last ')'."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":
        return None
    return int(fields[19])  # fields[0] is field 3 (state)


def boot_seconds() -> float:
    """Seconds since boot on the clock of start_ticks (CLOCK_BOOTTIME)."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def started_seconds(pid: int) -> float | None:
    """When `pid` started, in seconds since boot (comparable with boot_seconds())."""
    ticks = start_ticks(pid)
    return None if ticks is None else ticks / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcId:
    boot: str
    pid: int
    start: int

    @classmethod
    def of(cls, pid: int) -> ProcId | None:
        ticks = start_ticks(pid)
        return None if ticks is None or pid <= 1 else cls(boot_id(), pid, ticks)

    @classmethod
    def parse(cls, text: str) -> ProcId:
        """From `str(ProcId)`: "BOOT PID START"; ValueError on anything else."""
        boot, pid, start = text.split()
        if int(pid) <= 1 or int(start) < 0 or len(boot) != 36:
            raise ValueError(f"not a process record: {text!r}")
        return cls(boot, int(pid), int(start))

    def __str__(self) -> str:
        return f"{self.boot} {self.pid} {self.start}"

    def is_alive(self) -> bool:
        return self.boot == boot_id() and start_ticks(self.pid) == self.start

    def cmdline(self) -> str:
        try:
            raw = Path(f"/proc/{self.pid}/cmdline").read_bytes()
        except OSError:
            return ""
        return raw.replace(b"\0", b" ").decode(errors="replace").strip()
