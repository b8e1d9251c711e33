"""What the setup downloads or reuses is pinned by content, not only by version (review M6).

- requirements.txt: every pin carries sha256 hashes (pip-compile --generate-hashes) and is installed
  with `pip install --require-hashes`; every top-level pin of requirements.in is in it, same version.
- scripts/fetch-mermaid.sh: the npm tarball is checked against its pinned sha512 integrity after the
  download and on every reuse; a changed cached tarball is refused (and fetched again), a download that
  does not match fails and leaves nothing. npm is replaced by a stand-in, so no network is needed.
- Kubernetes binaries (run as root by the node tests): install-kube.sh --cached and kubeapi.find_tools
  use a cached binary only when its sha256 is the one SHA256SUMS recorded at build time and the cache
  directories belong to the effective user alone. Stand-in binaries in a temporary SNIPCHECK_CACHE.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import subprocess
import tarfile
from pathlib import Path

import pytest

from snipcheck.harness.kube import controlplane as kubeapi
from snipcheck.model import paths
from snipcheck.model.paths import ROOT

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]

REQUIREMENTS_IN = ROOT / "requirements.in"
REQUIREMENTS_TXT = ROOT / "requirements.txt"
SETUP = ROOT / "scripts" / "setup.sh"
FETCH_MERMAID = ROOT / "scripts" / "fetch-mermaid.sh"
BROWSER = ROOT / "tests" / "site" / "browser.py"
INSTALL_KUBE = ROOT / "scripts" / "install-kube.sh"
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


# --- mermaid -------------------------------------------------------------------------------------------


def script_setting(name: str, text: str | None = None) -> str:
    text = FETCH_MERMAID.read_text(encoding="utf-8") if text is None else text
    m = re.search(rf"^{name}=(\S+)$", text, re.MULTILINE)
    assert m, f"{FETCH_MERMAID}: no `{name}=...` line; update this test"
    return m.group(1)


def sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def mermaid_tarball(js: bytes) -> bytes:
    """An npm package tarball with package/dist/mermaid.min.js."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("package/dist/mermaid.min.js")
        info.size = len(js)
        tar.addfile(info, io.BytesIO(js))
    return buf.getvalue()


def mermaid_checkout(tmp_path: Path, integrity: str | None = None) -> Path:
    """A copy of scripts/fetch-mermaid.sh under tmp_path/scripts (it works in tmp_path/build/vendor), with
    its pinned integrity replaced by `integrity` when given."""
    text = FETCH_MERMAID.read_text(encoding="utf-8")
    if integrity is not None:
        text = text.replace(f"INTEGRITY={script_setting('INTEGRITY', text)}\n", f"INTEGRITY={integrity}\n")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "fetch-mermaid.sh").write_text(text, encoding="utf-8")
    (tmp_path / "build" / "vendor").mkdir(parents=True)
    return tmp_path


def run_fetch_mermaid(root: Path, registry_serves: bytes | None) -> subprocess.CompletedProcess[str]:
    """Runs the copy with a stand-in `npm` first on PATH: `npm pack` writes `registry_serves` as the
    tarball (a registry or mirror serving those bytes), or fails the test when None (must not be called)."""
    fake = root / "fake-bin"
    fake.mkdir()
    served = root / "served.tgz"
    if registry_serves is None:
        body = 'echo "npm called, but the cached tarball should have been used" >&2; exit 99\n'
    else:
        served.write_bytes(registry_serves)
        body = f'cp "{served}" "mermaid-{script_setting("VERSION")}.tgz"\n'
    (fake / "npm").write_text("#!/bin/sh\n" + body, encoding="utf-8")
    (fake / "npm").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    return subprocess.run(
        ["bash", str(root / "scripts" / "fetch-mermaid.sh")], capture_output=True, text=True, env=env, timeout=60
    )


def vendor(root: Path, suffix: str) -> Path:
    return root / "build" / "vendor" / f"mermaid-{script_setting('VERSION')}{suffix}"


def test_fetch_mermaid_pins_the_browser_version_and_an_sri_integrity() -> None:
    m = re.search(r'^MERMAID_VERSION = "([^"]+)"$', BROWSER.read_text(encoding="utf-8"), re.MULTILINE)
    assert m and m.group(1) == script_setting("VERSION"), f"{FETCH_MERMAID}: VERSION differs from {BROWSER}"
    assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", script_setting("INTEGRITY")), (
        f"{FETCH_MERMAID}: INTEGRITY must be `npm view mermaid@<version> dist.integrity` (sha512-<base64>)"
    )


def test_a_tampered_cached_mermaid_tarball_is_refused_and_a_tampered_download_fails(tmp_path: Path) -> None:
    """The pinned integrity as committed: the cached tarball (and the min.js from it) were changed, and the
    registry serves the same changed bytes: nothing is used, the script fails and leaves neither file."""
    root = mermaid_checkout(tmp_path)
    evil = mermaid_tarball(b"alert('not mermaid')")
    vendor(root, ".tgz").write_bytes(evil)
    vendor(root, ".min.js").write_bytes(b"alert('not mermaid')")
    res = run_fetch_mermaid(root, registry_serves=evil)
    assert res.returncode != 0, res.stdout + res.stderr
    assert "does not match the pinned integrity" in res.stderr and "removing it and fetching again" in res.stderr
    assert f"has integrity {sri(evil)}" in res.stderr and "refusing it" in res.stderr, res.stderr
    assert not vendor(root, ".tgz").exists() and not vendor(root, ".min.js").exists()


def test_a_matching_cached_tarball_is_reused_and_a_changed_one_fetched_again(tmp_path: Path) -> None:
    """The same script with the pin set to a stand-in tarball's integrity (computed here with hashlib, so
    the script's own sha512/base64 is checked too): reused without npm while it matches; once a byte of
    it changes, refused and fetched again; mermaid.min.js is always the checked tarball's."""
    js = b"/* mermaid stand-in */"
    good = mermaid_tarball(js)
    root = mermaid_checkout(tmp_path, integrity=sri(good))
    vendor(root, ".tgz").write_bytes(good)
    vendor(root, ".min.js").write_bytes(b"changed after extraction")
    res = run_fetch_mermaid(root, registry_serves=None)
    assert res.returncode == 0 and "integrity checked" in res.stdout, res.stdout + res.stderr
    assert vendor(root, ".min.js").read_bytes() == js
    vendor(root, ".tgz").write_bytes(good + b"\0")
    (root / "fake-bin" / "npm").unlink()
    (root / "fake-bin").rmdir()
    res = run_fetch_mermaid(root, registry_serves=good)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "does not match the pinned integrity" in res.stderr and "from the npm registry" in res.stdout
    assert vendor(root, ".tgz").read_bytes() == good and vendor(root, ".min.js").read_bytes() == js


# --- Kubernetes binaries -------------------------------------------------------------------------------


def fake_kube_cache(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A SNIPCHECK_CACHE whose kube/<pinned version>/ holds stand-ins of the three binaries (scripts that
    print the pinned version) and the SHA256SUMS install-kube.sh writes; a bin/ with stand-in etcd and go.
    Returns the version directory and the environment to run with."""
    version = paths.kube_version()
    where = tmp_path / "cache" / "kube" / version
    where.mkdir(parents=True)
    for d in (tmp_path / "cache", where.parent, where):
        d.chmod(0o755)  # whatever the umask: the checks want no group/other write
    lines = []
    for name in kubeapi.BUILT:
        (where / name).write_text(f"#!/bin/sh\necho 'Kubernetes {version} ({name} stand-in)'\n", encoding="utf-8")
        (where / name).chmod(0o755)
        lines.append(f"{hashlib.sha256((where / name).read_bytes()).hexdigest()}  {name}\n")
    (where / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")
    (where / "SHA256SUMS").chmod(0o644)
    (where / "BUILD-INFO").write_text(f"kubernetes={version}\n", encoding="utf-8")
    fake = tmp_path / "bin"
    fake.mkdir()
    for tool, out in (("etcd", "etcd Version: 3.4.30"), ("go", "go version go1.25.0 linux/amd64")):
        (fake / tool).write_text(f"#!/bin/sh\necho '{out}'\n", encoding="utf-8")
        (fake / tool).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("SNIPCHECK_NODE", "XDG_CACHE_HOME")}
    env |= {
        "SNIPCHECK_CACHE": str(tmp_path / "cache"),
        "TOOLS_BIN": str(tmp_path / "tools"),
        "PATH": f"{fake}:{env['PATH']}",
    }
    return where, env


def install_kube_cached(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(INSTALL_KUBE), "--cached"], capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture
def kube_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """fake_kube_cache, with this process's environment set to it (for kubeapi.find_tools)."""
    where, env = fake_kube_cache(tmp_path)
    for key in ("SNIPCHECK_CACHE", "PATH"):
        monkeypatch.setenv(key, env[key])
    return where


def tamper(binary: Path) -> None:
    """Changes the binary and keeps it working: it still prints the pinned version."""
    with binary.open("a", encoding="utf-8") as f:
        f.write("# and something else\n")


def test_find_tools_uses_a_cache_whose_binaries_match_their_recorded_sums(kube_cache: Path) -> None:
    tools, missing = kubeapi.find_tools()
    assert missing == "" and tools is not None
    assert tools.kube_apiserver == kube_cache / "kube-apiserver" and tools.kubectl == kube_cache / "kubectl"


def test_find_tools_refuses_a_binary_changed_since_it_was_built(kube_cache: Path) -> None:
    tamper(kube_cache / "kubectl")
    with pytest.raises(kubeapi.KubeError, match=r"kubectl: sha256 [0-9a-f]{64}, but .*SHA256SUMS records") as exc:
        kubeapi.find_tools()
    assert "rm -rf" in str(exc.value)


def test_find_tools_refuses_an_executable_the_sums_do_not_list(kube_cache: Path) -> None:
    (kube_cache / "kubelet").write_text("#!/bin/sh\n", encoding="utf-8")
    (kube_cache / "kubelet").chmod(0o755)
    with pytest.raises(kubeapi.KubeError, match=r"kubelet: not listed in .*SHA256SUMS"):
        kubeapi.find_tools()


@pytest.mark.parametrize("which", ["version directory", "kube directory", "binary", "SHA256SUMS"])
def test_find_tools_refuses_a_cache_that_group_can_write(kube_cache: Path, which: str) -> None:
    path = {
        "version directory": kube_cache,
        "kube directory": kube_cache.parent,
        "binary": kube_cache / "kube-apiserver",
        "SHA256SUMS": kube_cache / "SHA256SUMS",
    }[which]
    path.chmod(path.stat().st_mode | 0o020)
    with pytest.raises(kubeapi.KubeError, match=r"is writable by group or others \(mode") as exc:
        kubeapi.find_tools()
    assert str(exc.value).startswith(f"{path} ")


def test_find_tools_refuses_a_cache_of_another_user(kube_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = kube_cache.stat().st_uid + 1
    monkeypatch.setattr(kubeapi.os, "geteuid", lambda: other)
    with pytest.raises(kubeapi.KubeError, match=rf"belongs to uid \d+, not to uid {other} that runs the tests"):
        kubeapi.find_tools()


def test_find_tools_counts_a_cache_without_sums_as_missing(kube_cache: Path) -> None:
    """Binaries an older install-kube.sh built: not used, and install-kube.sh rebuilds them (one time)."""
    (kube_cache / "SHA256SUMS").unlink()
    tools, missing = kubeapi.find_tools()
    assert tools is None and "SHA256SUMS (the binaries there were built by an older install-kube.sh" in missing


def test_install_kube_cached_accepts_only_binaries_that_match_their_sums(tmp_path: Path) -> None:
    where, env = fake_kube_cache(tmp_path)
    res = install_kube_cached(env)
    assert res.returncode == 0, res.stdout + res.stderr
    tamper(where / "kube-controller-manager")
    res = install_kube_cached(env)
    assert res.returncode == 1, res.stdout + res.stderr
    assert f"{where}/kube-controller-manager: sha256 " in res.stdout and "(changed since it was built)" in res.stdout
    (where / "SHA256SUMS").unlink()
    res = install_kube_cached(env)
    assert res.returncode == 1 and f"{where}/kube-apiserver: no sha256 recorded" in res.stdout, res.stdout


def test_install_kube_refuses_a_cache_directory_that_group_can_write(tmp_path: Path) -> None:
    where, env = fake_kube_cache(tmp_path)
    where.chmod(0o775)
    res = install_kube_cached(env)
    assert res.returncode == 1, res.stdout + res.stderr
    assert f"ERROR: {where} (owner uid {os.geteuid()}, mode 775) must belong to uid {os.geteuid()}" in res.stdout
    assert f"rm -rf --one-file-system '{where}'" in res.stdout


def test_install_kube_lists_the_pause_source_without_changing_go_mod() -> None:
    text = INSTALL_KUBE.read_text(encoding="utf-8")
    assert "-mod=mod" not in text, f"{INSTALL_KUBE}: -mod=mod may rewrite scripts/kube/go.mod/go.sum; use -mod=readonly"
