"""What the tests that play a node on the host share: a command that must succeed, a harmless sysctl.
(They hold the node lock as well: the `node_lock` fixture in conftest.py.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

# a kubelet-like sysctl change that harms nothing: the root user's key-count limit
SYSCTL = Path("/proc/sys/kernel/keys/root_maxkeys")


def sh(*args: str, check: bool = True) -> None:
    res = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    if check and res.returncode != 0:
        raise AssertionError(f"{' '.join(args)}: {res.stderr}")
