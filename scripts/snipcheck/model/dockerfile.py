"""Reading Dockerfiles: stages and instructions, the images a build needs, what the image runs.

The one Dockerfile reader: the images tier (which base images to provide), the consistency checks
(binary paths, HEALTHCHECK commands) and the compose tier all use it.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

_SYNTAX = re.compile(r"^#\s*syntax\s*=\s*(\S+)", re.I)


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)


def logical_lines(text: str, verbatim: bool = False) -> list[str]:
    """Instructions, comment and blank lines dropped, continuation lines joined: with single spaces, or
    with `verbatim` as written (backslashes, line breaks and indentation kept, as BuildKit keys a step)."""
    lines, buf = [], ""
    for raw in text.splitlines():
        s = raw.rstrip() if verbatim else raw.strip()
        if s.lstrip().startswith("#") or (not s.strip() and not buf):
            continue
        if s.endswith("\\"):
            buf += s + "\n" if verbatim else s[:-1] + " "
            continue
        lines.append(buf + s if verbatim else (buf + s).strip())
        buf = ""
    if buf.strip():
        lines.append(buf.rstrip() if verbatim else buf.strip())
    return lines


def substitute(value: str, variables: dict[str, str]) -> str:
    """${VAR}, ${VAR:-default}, ${VAR-default}, $VAR with known values or defaults."""

    def repl(m: re.Match[str]) -> str:
        name = m["name"] or m["bare"]
        if name in variables and variables[name] != "":
            return variables[name]
        return m["default"] if m["default"] is not None else m[0]

    return re.sub(r"\$(?:\{(?P<name>\w+)(?::?-(?P<default>[^}]*))?\}|(?P<bare>\w+))", repl, value)


def stages(text: str, build_args: dict[str, str] | None = None) -> list[Stage]:
    """The stages in order; global ARGs (with `build_args` overriding defaults) resolved in FROM."""
    args: dict[str, str] = {}
    out: list[Stage] = []
    for line in logical_lines(text):
        instr, _, rest = line.partition(" ")
        instr, rest = instr.upper(), rest.strip()
        if instr == "ARG" and not out:
            name, _, default = rest.partition("=")
            name = name.strip()
            args[name] = (build_args or {}).get(name, default.strip().strip('"'))
        elif instr == "FROM":
            words = [w for w in rest.split() if not w.startswith("--")]
            base = substitute(words[0], args) if words else ""
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            out.append(Stage(base, name))
        elif out:
            out[-1].instructions.append((instr, rest))
    return out


def external_images(text: str) -> list[str]:
    """FROM references that are images (not scratch, not an earlier stage)."""
    names: set[str] = set()
    refs = []
    for st in stages(text):
        if st.base.lower() != "scratch" and st.base not in names:
            refs.append(st.base)
        if st.name:
            names.add(st.name)
    return refs


def exec_or_shell(rest: str) -> list[str]:
    """The words of an instruction: JSON (exec) form as is, shell form split like a shell would."""
    value = exec_or_shell_form(rest)
    if isinstance(value, list):
        return value
    try:
        return shlex.split(value)
    except ValueError:
        return value.split()


@dataclass
class Dockerfile:
    path: Path
    syntax: str | None = None
    stages: list[str] = field(default_factory=list)  # stage names, lower case
    bases: list[str] = field(default_factory=list)  # external images, in order, deduplicated
    entrypoint: list[str] | None = None
    cmd: list[str] | str | None = None
    user: str | None = None
    healthcheck: bool = False


def parse(path: Path, build_args: dict[str, str] | None = None) -> Dockerfile:
    """The facts the images tier needs: syntax frontend, base images, the final stage's runtime."""
    text = path.read_text(encoding="utf-8")
    df = Dockerfile(path)
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        m = _SYNTAX.match(line)
        if m:
            df.syntax = m[1]
    parsed = stages(text, build_args or {})
    names: set[str] = set()
    for st in parsed:
        if st.base.lower() != "scratch" and st.base.lower() not in names and st.base not in df.bases:
            df.bases.append(st.base)
        for instr, rest in st.instructions:
            if instr in ("COPY", "RUN"):
                for m in re.finditer(r"--from=(\S+)", rest):
                    src = m[1]
                    if src.lower() not in names and not src.isdigit() and src not in df.bases:
                        df.bases.append(src)
        if st.name:
            names.add(st.name.lower())
    df.stages = sorted(names)
    final = parsed[-1] if parsed else None
    for instr, rest in final.instructions if final else []:
        if instr == "ENTRYPOINT":
            value = exec_or_shell_form(rest)
            df.entrypoint = value if isinstance(value, list) else ["/bin/sh", "-c", value]
        elif instr == "CMD":
            df.cmd = exec_or_shell_form(rest)
        elif instr == "USER":
            df.user = rest
        elif instr == "HEALTHCHECK":
            df.healthcheck = not rest.upper().startswith("NONE")
    return df


def exec_or_shell_form(rest: str) -> list[str] | str:
    """JSON (exec) form as a list; shell form as the string it is."""
    try:
        value = json.loads(rest)
        if isinstance(value, list):
            return [str(v) for v in value]
    except json.JSONDecodeError:
        pass
    return rest


def required_images(df: Dockerfile) -> list[str]:
    """Every image the build needs from a registry or the local kit, the frontend included."""
    refs = list(df.bases)
    if df.syntax:
        refs.insert(0, df.syntax)
    return refs
