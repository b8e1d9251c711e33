"""The free disk space during a run: sampled (statvfs, microseconds) after each test on the pytest
controller; the lowest value and the test just finished then go into the report and the summary.

Why: a cold run on a fresh machine once filled its disk midway and every tier after it failed with
ENOSPC, while the next cold run stayed far from full. Which test was running when the space went is the
first thing to know; the report keeps it (`disk`), the summary prints it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

GB = 1e9
# Docker's images and BuildKit's cache are most of what a run writes; elsewhere on the same disk
# (/tmp, the Go caches) the free space is the same when it is one filesystem.
WATCHED = (Path("/var/lib/docker"), Path("/"))
LOW_GB = 5.0  # below this the summary says the disk nearly ran out


def watched_path() -> Path:
    return next(p for p in WATCHED if p.is_dir())


@dataclass
class DiskWatch:
    path: Path = field(default_factory=watched_path)
    free: Callable[[Path], int] = lambda p: shutil.disk_usage(p).free
    at_start: int = -1
    lowest: int = -1
    lowest_after: str = ""

    def sample(self, after: str) -> None:
        now = self.free(self.path)
        if self.at_start < 0:
            self.at_start = now
        if self.lowest < 0 or now < self.lowest:
            self.lowest, self.lowest_after = now, after

    def as_report(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "free_gb_at_start": round(self.at_start / GB, 1),
            "lowest_free_gb": round(self.lowest / GB, 1),
            "lowest_after": self.lowest_after,
        }

    @property
    def low(self) -> bool:
        return 0 <= self.lowest < LOW_GB * GB

    def summary(self) -> str:
        line = (
            f"disk ({self.path}): {self.at_start / GB:.1f} GB free at the start, "
            f"lowest {self.lowest / GB:.1f} GB (after {self.lowest_after})"
        )
        if self.low:
            line += f" — below {LOW_GB:.0f} GB: free space (docker system df; docker builder prune) before the next run"
        return line
