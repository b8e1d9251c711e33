"""What the setup downloads or reuses is pinned by content, not only by version (review M6).

- requirements.txt: every pin carries sha256 hashes (pip-compile --generate-hashes) and is installed
  with `pip install --require-hashes`; every top-level pin of requirements.in is in it, same version.
"""

from __future__ import annotations

import re

import pytest

from snipcheck.paths import ROOT

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]

REQUIREMENTS_IN = ROOT / "requirements.in"
REQUIREMENTS_TXT = ROOT / "requirements.txt"
SETUP = ROOT / "scripts" / "setup.sh"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)==([^\s;\\]+)")
HASH = re.compile(r"^--hash=sha256:[0-9a-f]{64}$")
REGENERATE = "regenerate it as requirements.in's header says (pip-compile --generate-hashes)"


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def entries(text: str) -> list[tuple[int, str]]:
    """requirements.txt's logical lines (backslash continuations joined, comments dropped), with the
    number of the line each starts on."""
    out: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        cont = line.endswith("\\")
        line = line.removesuffix("\\").strip()
        if pending is not None:
            pending = (pending[0], f"{pending[1]} {line}".strip())
        elif line:
            pending = (n, line)
        if pending is not None and not cont:
            out.append(pending)
            pending = None
    if pending is not None:
        out.append(pending)
    return out


def requirement_problems(txt: str, top_level: str, txt_name: str = "requirements.txt") -> list[str]:
    """Pins without a sha256 hash, lines that are not hashed pins (an index, a URL, an editable), and
    requirements.in pins that requirements.txt does not have at the same version."""
    out: list[str] = []
    pinned: dict[str, str] = {}
    for line, entry in entries(txt):
        first, *options = entry.split()
        m = PIN.match(first)
        if not m:
            out.append(f"{txt_name}:{line}: `{first}` is not a pinned requirement (name==version): {REGENERATE}")
            continue
        pinned[normalized(m.group(1))] = m.group(2)
        bad = [o for o in options if not HASH.match(o)]
        if bad:
            out.append(f"{txt_name}:{line}: {first}: unexpected {' '.join(bad)} (only --hash=sha256:...)")
        if not any(HASH.match(o) for o in options):
            out.append(f"{txt_name}:{line}: {first} has no --hash=sha256: {REGENERATE}")
    if len(pinned) < 20:
        out.append(f"{txt_name}: only {len(pinned)} pins; expected the full set: {REGENERATE}")
    for line, entry in entries(top_level):
        m = PIN.match(entry)
        if not m:
            out.append(f"requirements.in:{line}: `{entry}` is not pinned exactly (name==version)")
        elif pinned.get(normalized(m.group(1))) != m.group(2):
            have = pinned.get(normalized(m.group(1)), "nothing")
            out.append(f"requirements.in:{line}: {entry}, but {txt_name} pins {have}: {REGENERATE}")
    return out


def test_every_python_pin_has_a_hash_and_requirements_in_is_pinned() -> None:
    txt = REQUIREMENTS_TXT.read_text(encoding="utf-8")
    assert requirement_problems(txt, REQUIREMENTS_IN.read_text(encoding="utf-8")) == []


def test_a_pin_with_its_hash_removed_is_named() -> None:
    """The check above on a tampered copy: certifi's hash lines gone, mkdocs' version changed."""
    txt = REQUIREMENTS_TXT.read_text(encoding="utf-8")
    tampered = re.sub(r"^(certifi==\S+) \\\n(?:\s+--hash=\S+(?: \\)?\n)+", r"\1\n", txt, flags=re.MULTILINE)
    assert tampered != txt, "requirements.txt: no certifi pin to tamper with; pick another package here"
    found = requirement_problems(tampered, REQUIREMENTS_IN.read_text(encoding="utf-8"))
    assert len(found) == 1 and re.match(r"requirements\.txt:\d+: certifi==\S+ has no --hash=sha256", found[0]), found
    found = requirement_problems(txt.replace("\nmkdocs==1.6.1 ", "\nmkdocs==1.6.0 "), "mkdocs==1.6.1\n")
    assert found == ["requirements.in:1: mkdocs==1.6.1, but requirements.txt pins 1.6.0: " + REGENERATE]
    found = requirement_problems("--find-links /opt/wheels\n" + txt, "")
    assert found == ["requirements.txt:1: `--find-links` is not a pinned requirement (name==version): " + REGENERATE]


def test_setup_and_workflows_install_python_requirements_with_require_hashes() -> None:
    files = [SETUP, *sorted((ROOT / ".github" / "workflows").glob("*.yml"))]
    installs = [
        (path, line)
        for path in files
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.search(r"pip install .*-r ", line)
    ]
    assert any(path == SETUP for path, _ in installs), f"{SETUP}: no `pip install -r` found; update this test"
    for path, line in installs:
        assert "--require-hashes" in line, f"{path}: `{line.strip()}` must pass --require-hashes"
