"""scripts/fresh-machine/sysctls.sh: measure.sh puts back the kernel-wide sysctls that a node inside
its privileged container wrote on the host (review M12: kernel.panic_on_oops = 1 and kernel.panic = 10
stayed on the shared machine after a killed measurement). Played on a stand-in /proc/sys."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from snipcheck.model.paths import SCRIPTS

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(30)]

LIB = SCRIPTS / "fresh-machine" / "sysctls.sh"


def test_the_kernel_wide_sysctls_a_node_changed_are_put_back(tmp_path: Path) -> None:
    root = tmp_path / "sys"
    values = {
        "kernel/panic": "0",
        "kernel/panic_on_oops": "0",
        "vm/overcommit_memory": "0",
        "kernel/keys/root_maxkeys": "1000000",
    }
    for key, value in values.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_text(value + "\n")
    node = "; ".join(
        f"echo {v} > $SYSCTL_ROOT/{k}"
        for k, v in (("kernel/panic", 10), ("kernel/panic_on_oops", 1), ("vm/overcommit_memory", 1))
    )
    script = f'. "{LIB}"; host_sysctls_save; {node}; host_sysctls_restore'
    res = subprocess.run(
        ["bash", "-c", script], env={**os.environ, "SYSCTL_ROOT": str(root)}, capture_output=True, text=True, timeout=20
    )
    assert res.returncode == 0, res.stderr
    assert {k: (root / k).read_text().strip() for k in values} == values, res.stdout
    assert "sysctl kernel.panic_on_oops = 0 again (the node in the container had set 1)" in res.stdout
    assert "root_maxkeys" not in res.stdout, "an unchanged sysctl was rewritten"


def test_measure_sh_restores_them_on_exit() -> None:
    text = (SCRIPTS / "fresh-machine" / "measure.sh").read_text(encoding="utf-8")
    cleanup = text[text.index("cleanup() {") : text.index("trap cleanup EXIT")]
    assert "host_sysctls_restore" in cleanup and "host_sysctls_save" in cleanup.split("}")[-1]
