"""Every pinned Python requirement installs on the oldest Python the setup accepts.

scripts/setup.sh creates the venv with the machine's python3 when it is >= the version it checks
for; on Debian 12 that is the system's 3.11.2. A pin whose Requires-Python excludes it (as
pymdown-extensions 13.x does with >=3.11.5) fails there with "No matching distribution", on a
fresh machine only. The venv holds the pinned set, so each pin's metadata is read from it.
"""

from __future__ import annotations

import re
from importlib import metadata

import pytest
from packaging.specifiers import SpecifierSet

from snipcheck.model.paths import ROOT

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]

SETUP = ROOT / "scripts" / "setup.sh"
REQUIREMENTS = ROOT / "requirements.txt"
# setup.sh: python -c 'import sys; assert sys.version_info >= (3, 11)'
MIN_CHECK = re.compile(r"sys\.version_info >= \((\d+), (\d+)\)")
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)")


def setup_minimum() -> str:
    found = MIN_CHECK.search(SETUP.read_text(encoding="utf-8"))
    assert found, f"{SETUP}: no `sys.version_info >= (X, Y)` check found; update MIN_CHECK here"
    return f"{found.group(1)}.{found.group(2)}.0"


def pins(text: str) -> list[tuple[int, str, str]]:
    return [(n, m.group(1), m.group(2)) for n, line in enumerate(text.splitlines(), 1) if (m := PIN.match(line))]


def excluded(requires_python: str | None, python: str) -> bool:
    return bool(requires_python) and not SpecifierSet(requires_python).contains(python)


def problems(text: str, python: str, requires_python_of) -> list[str]:
    out = []
    for line, name, version in pins(text):
        rp = requires_python_of(name, version)
        if excluded(rp, python):
            out.append(
                f"requirements.txt:{line}: {name}=={version} requires Python {rp}, but the setup accepts "
                f"{python} (Debian 12's python3 is 3.11.2): pin a version that supports it, or raise the "
                "check in scripts/setup.sh"
            )
    return out


def installed_requires_python(name: str, version: str) -> str | None:
    dist = metadata.distribution(name)
    assert dist.version == version, f"{name}: the venv has {dist.version}, requirements.txt pins {version}: rerun setup"
    return dist.metadata.get("Requires-Python")


def test_every_pin_installs_on_the_oldest_python_the_setup_accepts() -> None:
    text = REQUIREMENTS.read_text(encoding="utf-8")
    assert len(pins(text)) > 20, "requirements.txt: expected the full pinned set"
    assert problems(text, setup_minimum(), installed_requires_python) == []


def test_a_pin_that_needs_a_newer_python_is_named_with_its_line() -> None:
    text = "mkdocs==1.6.1\npymdown-extensions==13.1.2\n"
    meta = {"mkdocs": ">=3.8", "pymdown-extensions": ">=3.11.5"}
    found = problems(text, "3.11.0", lambda name, _v: meta[name])
    assert len(found) == 1 and found[0].startswith(
        "requirements.txt:2: pymdown-extensions==13.1.2 requires Python >=3.11.5"
    )
