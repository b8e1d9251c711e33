"""Running a command and keeping what it said: the one Result type of the suite (Docker, linters, tools)."""

from __future__ import annotations

import os
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
) -> Result:
    """Run `args`, capturing text output (or streaming stdout to a binary file object).

    `env` replaces the environment when given (callers merge os.environ themselves); a timeout raises
    `error` naming the command.
    """
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


def environment(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}
