"""The project's scripts run apt-get one at a time: scripts/lib/apt.sh is the only caller of apt-get and
holds one lock, so the background build of the Kubernetes binaries (its apt steps at the end) never runs
apt beside the setup's own apt steps (apt-get update does not wait for apt's lists lock: it fails)."""

from __future__ import annotations

import fcntl
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from snipcheck.model.paths import ROOT, SCRIPTS, project_shell_scripts

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]

APT_LIB = SCRIPTS / "lib" / "apt.sh"
SHELL_SCRIPTS = project_shell_scripts()
QUOTED = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'")


def apt_get_commands(script: Path) -> list[str]:
    """Lines of SCRIPT that run the host's apt-get (comments, quoted messages and the apt of a chroot,
    another system's, left out)."""
    found = []
    for number, line in enumerate(script.read_text(encoding="utf-8").splitlines(), 1):
        code = QUOTED.sub('""', line).split("#", 1)[0]
        if re.search(r"(?<![\w-])apt-get(?![\w-])", code) and not re.match(r"\s*chroot\s", code):
            name = script.relative_to(ROOT) if script.is_relative_to(ROOT) else script.name
            found.append(f"{name}:{number}: {line.strip()}")
    return found


def test_only_the_apt_library_runs_apt_get() -> None:
    direct = [hit for script in SHELL_SCRIPTS if script != APT_LIB for hit in apt_get_commands(script)]
    hint = "run apt-get through apt_get (scripts/lib/apt.sh), which holds the project's lock"
    assert not direct, hint + ":\n" + "\n".join(direct)


def test_the_finder_sees_a_direct_call(tmp_path: Path) -> None:
    script = tmp_path / "x.sh"
    script.write_text(
        'log "as root: apt-get install x"  # apt-get in a message\nsudo apt-get update -qq\napt_get update\n'
        'chroot "$rootfs" apt-get clean\n',
        encoding="utf-8",
    )
    assert apt_get_commands(script) == ["x.sh:2: sudo apt-get update -qq"]


def stand_ins(tmp_path: Path) -> Path:
    """bin/ with an apt-get that records its arguments and, when the test is not root, a sudo that runs
    its command as the test's user (sudo would reset PATH): what apt_get does is tested without root."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "apt-get"
    fake.write_text(f'#!/bin/sh\necho "$@" >> "{tmp_path / "ran"}"\n', encoding="utf-8")
    fake.chmod(0o755)
    if os.geteuid() != 0:
        sudo = bin_dir / "sudo"
        sudo.write_text('#!/bin/sh\nexec "$@"\n', encoding="utf-8")
        sudo.chmod(0o755)
    return bin_dir


def run_apt_get(tmp_path: Path, *args: str, wait: int, lock: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
        "SNIPCHECK_APT_LOCK": str(lock or tmp_path / "locks" / "apt.lock"),
        "SNIPCHECK_APT_LOCK_WAIT": str(wait),
    }
    script = f'. "{APT_LIB}"; apt_get "$@"'
    return subprocess.run(["bash", "-c", script, "apt_get", *args], env=env, capture_output=True, text=True, timeout=30)


def test_apt_get_waits_for_the_projects_lock(tmp_path: Path) -> None:
    stand_ins(tmp_path)
    (tmp_path / "locks").mkdir(mode=0o700)
    with open(tmp_path / "locks" / "apt.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another apt step of ours is running
        blocked = run_apt_get(tmp_path, "update", "-qq", wait=1)
    assert blocked.returncode == 75, f"apt_get did not wait for the lock: {blocked.returncode} {blocked.stderr}"
    assert "waited 1 s for" in blocked.stderr and "apt-get update -qq not run" in blocked.stderr, blocked.stderr
    assert not (tmp_path / "ran").exists(), "apt-get ran while the lock was held"
    done = run_apt_get(tmp_path, "install", "-y", "etcd-server", wait=1)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "ran").read_text().split() == ["-o", "DPkg::Lock::Timeout=300", "install", "-y", "etcd-server"]


def test_the_lock_is_in_roots_private_directory() -> None:
    """Not /run/lock: anyone can write there (review L1)."""
    env = {k: v for k, v in os.environ.items() if k != "SNIPCHECK_APT_LOCK"}
    where = subprocess.run(
        ["bash", "-c", f'. "{APT_LIB}"; apt_lock_file'], env=env, capture_output=True, text=True, timeout=30
    )
    assert where.stdout.strip() == ("/run/snipcheck/apt.lock" if Path("/run").is_dir() else "/tmp/snipcheck/apt.lock")


def test_a_missing_lock_directory_is_made_private(tmp_path: Path) -> None:
    stand_ins(tmp_path)
    done = run_apt_get(tmp_path, "update", wait=1)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE((tmp_path / "locks").lstat().st_mode) == 0o700
    assert (tmp_path / "ran").exists()


def refused(tmp_path: Path, done: subprocess.CompletedProcess[str], why: str) -> None:
    assert done.returncode == 1, f"apt_get used an unsafe lock directory: {done.returncode} {done.stderr}"
    assert why in done.stderr and "not private to root" in done.stderr and "apt-get update not run" in done.stderr, (
        done.stderr
    )
    assert not (tmp_path / "ran").exists(), "apt-get ran"


def test_a_symlinked_lock_directory_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    """A planted symlink must not make root create the lock file where it points."""
    stand_ins(tmp_path)
    target = tmp_path / "canary"
    target.mkdir(mode=0o700)
    (tmp_path / "locks").symlink_to(target)
    refused(tmp_path, run_apt_get(tmp_path, "update", wait=1), "is a symlink")
    assert list(target.iterdir()) == [], "a file was created through the symlink"


def test_a_lock_directory_others_can_write_is_refused(tmp_path: Path) -> None:
    stand_ins(tmp_path)
    (tmp_path / "locks").mkdir()
    (tmp_path / "locks").chmod(0o777)
    refused(tmp_path, run_apt_get(tmp_path, "update", wait=1), "can be written by group or others")
    assert list((tmp_path / "locks").iterdir()) == []


@pytest.mark.root(reason="giving a directory to another user needs root (the other lock tests run without)")
def test_a_lock_directory_of_another_user_is_refused(tmp_path: Path) -> None:
    stand_ins(tmp_path)
    (tmp_path / "locks").mkdir(mode=0o700)
    os.chown(tmp_path / "locks", 65534, 65534)
    refused(tmp_path, run_apt_get(tmp_path, "update", wait=1), "belongs to uid 65534")


def dormant_stand_ins(tmp_path: Path) -> Path:
    """Stand-ins for apt-get, dpkg-query, dpkg and systemctl: the install "installs" demo-server, whose
    package ships demo.service (enabled, as Debian's postinst enables it); apt-get records whether the
    policy-rc.d refusing every start was in place while it ran; systemctl records what it was asked."""
    bin_dir = stand_ins(tmp_path)
    state = tmp_path / "state"
    state.mkdir()
    (state / "installed").write_text("ii base\n")
    (state / "enabled").write_text("demo.service\n")
    policy = tmp_path / "policy-rc.d"
    scripts = {
        "apt-get": f'#!/bin/sh\necho "$@" >> "{tmp_path / "ran"}"\n'
        f'if [ -x "{policy}" ] && ! "{policy}" demo start; then echo refused >> "{tmp_path / "policy"}"; fi\n'
        f'echo "ii demo-server" >> "{state / "installed"}"\n',
        "dpkg-query": f'#!/bin/sh\ncat "{state / "installed"}"\n',
        "dpkg": '#!/bin/sh\n[ "$2" = demo-server ] && echo /lib/systemd/system/demo.service\necho /usr/bin/demo\n',
        "systemctl": f'#!/bin/sh\necho "$@" >> "{state / "systemctl"}"\n'
        f'[ "$1" = is-enabled ] && grep -qx "$2" "{state / "enabled"}" && echo enabled\nexit 0\n',
    }
    for name, text in scripts.items():
        (bin_dir / name).write_text(text, encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    return policy


def test_an_install_starts_no_service_and_leaves_none_enabled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review M5: Debian's postgresql, redis-server and etcd-server start at once and at every boot when
    installed. An install through apt_get runs under a policy-rc.d that refuses every start, removed
    after it, and disables the units of the packages it newly installed (and only those)."""
    policy = dormant_stand_ins(tmp_path)
    monkeypatch.setenv("SNIPCHECK_POLICY_RC", str(policy))
    res = run_apt_get(tmp_path, "install", "-y", "demo-server", wait=5)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "policy").read_text() == "refused\n", "no policy-rc.d refused starts during the install"
    assert not policy.exists(), "the policy-rc.d made for the install stayed"
    calls = (tmp_path / "state" / "systemctl").read_text()
    assert "disable --quiet demo.service" in calls, calls
    assert "disabled demo.service at boot" in res.stdout + res.stderr
    assert "base" not in calls, "a unit of a package installed before was touched"


def test_a_policy_rc_that_was_there_stays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = dormant_stand_ins(tmp_path)
    policy.write_text("#!/bin/sh\nexit 0\n")
    policy.chmod(0o755)
    monkeypatch.setenv("SNIPCHECK_POLICY_RC", str(policy))
    assert run_apt_get(tmp_path, "install", "-y", "demo-server", wait=5).returncode == 0
    assert policy.read_text() == "#!/bin/sh\nexit 0\n"
