"""Running a command and keeping what it said: the one Result type of the suite (Docker, linters, tools)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO


class CommandError(RuntimeError):
    """A command failed or timed out; the message carries the command and the end of its output."""


def tail(text: str, n: int) -> str:
    return "\n".join(text.splitlines()[-n:])


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def describe(self, stderr_lines: int = 60, stdout_lines: int = 60) -> str:
        return (
            f"`{' '.join(self.args)}` exited {self.returncode} after {self.seconds:.1f}s\n"
            f"--- stderr (last {stderr_lines} lines) ---\n{tail(self.stderr, stderr_lines)}\n"
            f"--- stdout (last {stdout_lines} lines) ---\n{tail(self.stdout, stdout_lines)}"
        )


def run(
    args: Sequence[str],
    *,
    timeout: float,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    input: str | None = None,
    stdout: IO[bytes] | None = None,
    error: type[Exception] = CommandError,
    own_group: bool = False,
) -> Result:
    """Run `args`, capturing text output (or streaming stdout to a binary file object).

    `env` replaces the environment when given (callers merge os.environ themselves); a timeout raises
    `error` naming the command. `own_group`: the command runs in a process group of its own, and a
    timeout (or an interrupt of ours) stops the whole group, not only its first process — for scripts
    whose children hold mounts or locks (debootstrap under mkrootfs.sh, review M2); see stop_group.
    """
    if own_group:
        return _run_in_own_group(args, timeout=timeout, cwd=cwd, env=env, error=error)
    start = time.monotonic()
    try:
        if stdout is not None:
            proc = subprocess.run(list(args), stdout=stdout, stderr=subprocess.PIPE, timeout=timeout, cwd=cwd, env=env)
            out, err = "", proc.stderr.decode("utf-8", "replace")
        else:
            proc = subprocess.run(
                list(args),
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                input=input,
                cwd=cwd,
                env=env,
            )  # errors="replace": a tool's non-UTF-8 output must not hide its real failure
            out, err = proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        raise error(f"`{' '.join(args)}` did not finish within {timeout}s") from exc
    return Result(list(args), proc.returncode, out, err, time.monotonic() - start)


GROUP_GRACE_S = 60.0  # what a stopped script gets to run its EXIT trap (unmount, remove) before SIGKILL


def _run_in_own_group(
    args: Sequence[str], *, timeout: float, cwd: Path | None, env: dict[str, str] | None, error: type[Exception]
) -> Result:
    start = time.monotonic()
    popen = subprocess.Popen(
        list(args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        cwd=cwd,
        env=env,
        start_new_session=True,  # its own group: the group id is its pid, ours until we reap it
    )
    try:
        out, err = popen.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        stop_group(popen)
        raise error(f"`{' '.join(args)}` did not finish within {timeout}s (its process group was stopped)") from exc
    except BaseException:
        stop_group(popen)
        raise
    return Result(list(args), popen.returncode, out, err, time.monotonic() - start)


def stop_group(popen: subprocess.Popen[str], grace: float = GROUP_GRACE_S) -> None:
    """SIGTERM the process group `popen` leads, wait up to `grace` seconds for its leader, then SIGKILL the
    group. The group is proven ours: `popen` was started with start_new_session=True, so its pid is the
    group id, and the pid cannot be reused before we reap it (we are its parent and have not waited)."""
    if popen.returncode is not None:
        return
    pgid = popen.pid
    try:
        os.killpg(pgid, signal.SIGTERM)
        popen.communicate(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    with contextlib.suppress(ProcessLookupError):  # the group's members outlive a reaped leader: the kernel
        os.killpg(pgid, signal.SIGKILL)  # keeps the id allocated while the group has members
    popen.communicate()


def environment(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}
