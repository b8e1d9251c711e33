"""Reading Dockerfiles: which images they need, which stages they have, what they run."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

_SYNTAX = re.compile(r"^#\s*syntax\s*=\s*(\S+)", re.I)
_ARG = re.compile(r"^ARG\s+(\w+)(?:=(\S*))?", re.I)


@dataclass
class Dockerfile:
    path: Path
    syntax: str | None = None
    stages: list[str] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)       # external images, in order, deduplicated
    entrypoint: list[str] | None = None
    cmd: list[str] | str | None = None
    user: str | None = None
    healthcheck: bool = False


def _logical_lines(text: str) -> list[str]:
    lines, buf = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if buf and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        lines.append(buf + stripped)
        buf = ""
    if buf:
        lines.append(buf)
    return lines


def _substitute(value: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m[1], m[0]), value)


def _exec_form(rest: str) -> list[str] | str:
    try:
        value = json.loads(rest)
        if isinstance(value, list):
            return [str(v) for v in value]
    except json.JSONDecodeError:
        pass
    return rest


def parse(path: Path, build_args: dict[str, str] | None = None) -> Dockerfile:
    text = path.read_text(encoding="utf-8")
    df = Dockerfile(path)
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        m = _SYNTAX.match(line)
        if m:
            df.syntax = m[1]
    args: dict[str, str] = {}
    for line in _logical_lines(text):
        instr, _, rest = line.partition(" ")
        instr, rest = instr.upper(), rest.strip()
        if instr == "ARG":
            m = _ARG.match(line)
            if m and m[1] not in args:
                args[m[1]] = (build_args or {}).get(m[1], m[2] or "")
        elif instr == "FROM":
            words = [w for w in rest.split() if not w.startswith("--")]
            image = _substitute(words[0], args)
            if len(words) >= 3 and words[1].lower() == "as":
                df.stages.append(words[2].lower())
            if image.lower() != "scratch" and image.lower() not in df.stages and image not in df.bases:
                df.bases.append(image)
            df.entrypoint, df.cmd, df.user, df.healthcheck = None, None, None, False
        elif instr == "COPY" or instr == "RUN":
            for m in re.finditer(r"--from=(\S+)", rest):
                src = _substitute(m[1], args)
                if src.lower() not in df.stages and not src.isdigit() and src not in df.bases:
                    df.bases.append(src)
        elif instr == "ENTRYPOINT":
            value = _exec_form(rest)
            df.entrypoint = value if isinstance(value, list) else ["/bin/sh", "-c", value]
        elif instr == "CMD":
            df.cmd = _exec_form(rest)
        elif instr == "USER":
            df.user = rest
        elif instr == "HEALTHCHECK":
            df.healthcheck = not rest.upper().startswith("NONE")
    return df


def required_images(df: Dockerfile) -> list[str]:
    """Every image the build needs from a registry or the local kit, the frontend included."""
    refs = list(df.bases)
    if df.syntax:
        refs.insert(0, df.syntax)
    return refs
