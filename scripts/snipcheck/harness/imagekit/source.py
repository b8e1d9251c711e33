"""Where an image comes from (ImageSource) and which mode the kit runs in (registry or local)."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from dataclasses import dataclass

from .recipes import MODE_ENV, MODES, PING_TIMEOUT, REGISTRY_PING


@dataclass
class ImageSource:
    """Where an image came from: registry | local | standin | unavailable."""

    ref: str
    kind: str
    detail: str = ""  # registry digest, or recipe hash for local/standin
    what: str = ""  # for stand-ins: what the image really is
    reason: str = ""  # for unavailable: why
    seconds: float = 0.0
    built: bool = False  # built (or pulled) during this call
    image: str = ""  # its name in the Docker store: the upstream ref (registry) or snipcheck.local/<ref> (kit)

    @property
    def available(self) -> bool:
        return self.kind != "unavailable"

    def describe(self) -> str:
        if self.kind == "registry":
            return f"registry {self.detail}"
        if self.kind == "local":
            return f"local rebuild (recipe {self.detail[:12]}, {self.image})"
        if self.kind == "standin":
            return f"stand-in (recipe {self.detail[:12]}, {self.image}): {self.what}"
        return f"unavailable: {self.reason}"

    def as_dict(self) -> dict[str, object]:
        return {
            "ref": self.ref,
            "kind": self.kind,
            "detail": self.detail,
            "what": self.what,
            "reason": self.reason,
            "seconds": round(self.seconds, 1),
            "built": self.built,
            "image": self.image,
        }


# --------------------------------------------------------------------------- mode

_mode_cache: str | None = None


def registry_reachable(timeout: float = PING_TIMEOUT) -> bool:
    """True when Docker Hub's registry answers (any HTTP status, e.g. 401) within timeout."""
    try:
        urllib.request.urlopen(REGISTRY_PING, timeout=timeout)  # noqa: S310 - fixed https URL
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False
    return True


def requested_mode() -> str:
    mode = os.environ.get(MODE_ENV, "auto").strip().lower() or "auto"
    if mode not in MODES:
        raise ValueError(f"{MODE_ENV}={mode!r}: expected one of {', '.join(MODES)}")
    return mode


def mode() -> str:
    """The effective mode: `registry` or `local` (auto resolved once per process, by whether the registry
    answers at all). Within a mode nothing is swapped: in `registry` mode an image the registry does not
    deliver is unavailable (never replaced by the kit's), in `local` mode every image the kit makes is the
    kit's. The report names each image's source either way."""
    global _mode_cache
    if _mode_cache is None:
        requested = requested_mode()
        if requested == "auto":
            requested = "registry" if registry_reachable() else "local"
        _mode_cache = requested
    return _mode_cache
