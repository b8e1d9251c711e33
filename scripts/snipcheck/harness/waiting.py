"""The one way to wait for something: poll a probe until it answers, with a deadline and a useful error.

    seconds = until(lambda: http_ok(url), timeout=30, what=f"{url} to answer 200",
                    details=lambda: docker.describe_container(cid)).seconds

A probe returns a value (truthy = done) or raises one of `retry_on` (the attempt failed; its message
is kept as the last observation). `Abort` from a probe ends the wait at once (e.g. the container
exited). A timeout raises WaitTimeout (an AssertionError, so pytest reports a failure) naming what was
awaited, the last observation and `details()` — for containers, their name, state and last log lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The awaited condition did not come true in time."""


class Abort(AssertionError):
    """Raised by a probe: waiting longer cannot help (the process or container is gone)."""


@dataclass(frozen=True)
class Waited(Generic[T]):
    value: T
    seconds: float


def until(
    probe: Callable[[], T],
    *,
    timeout: float,
    what: str,
    interval: float = 0.2,
    retry_on: tuple[type[BaseException], ...] = (),
    details: Callable[[], str] | None = None,
    describe: Callable[[T], str] = repr,
) -> Waited[T]:
    """Call `probe` every `interval` seconds until it returns a truthy value or `timeout` passes."""
    start = time.monotonic()
    last = "nothing yet"
    while True:
        try:
            value = probe()
            if value:
                return Waited(value, time.monotonic() - start)
            last = describe(value)[:300]
        except Abort:
            raise
        except retry_on as exc:
            last = f"{type(exc).__name__}: {exc}"[:300]
        if time.monotonic() - start >= timeout:
            extra = details() if details else ""
            raise WaitTimeout(f"waited {timeout:g}s for {what}; last: {last}" + (f"\n{extra}" if extra else ""))
        time.sleep(interval)
