"""Offline, standalone, strict Kubernetes JSON schemas for kubeconform.

PyPI's `kubernetes-validate` wheel ships `vX.Y.0-local-strict/<kind>-<group>-<version>.json`, but
each schema `$ref`s its types in `https://kubernetes.io/api/_definitions.json` (written as
`/api/_definitions.json#/$defs/NAME`, resolved against the schema's `$id`). kubeconform would
try to download that. Here every resource schema is made standalone: the definitions it needs
(transitively) are copied from the wheel's local `_definitions.json` into its own `$defs`, the
refs are rewritten to `#/$defs/NAME`, `$id` and the `description`s are dropped. Output, in the layout kubeconform
expects for a local `-schema-location` directory:

    build/k8s-schemas/vX.Y.0-standalone-strict/<kind>-<group>-<version>.json

Only resource kinds (schemas carrying `x-kubernetes-group-version-kind`) are written; a
version's directory is regenerated only when the wheel's data or this generator changes
(a hash stamp).

    python -m snipcheck.harness.kube.schemas 1.31.0 1.33.0 1.35.0
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ...model.paths import BUILD
from .. import saferm

DEST = BUILD / "k8s-schemas"
STAMP = ".snipcheck-stamp"
REMOTE_PREFIX = "/api/_definitions.json#/$defs/"
LOCAL_PREFIX = "#/$defs/"
NAME_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")


class SchemaError(RuntimeError):
    """The wheel's schemas are missing or not in the expected shape."""


def wheel_schemas() -> Path:
    """The wheel's `kubernetes-json-schema` directory."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.origin:
        raise SchemaError(
            "the `kubernetes-validate` wheel is not installed (.venv/bin/pip install -r requirements.txt)"
        )
    root = Path(spec.origin).parent / "kubernetes-json-schema"
    if not root.is_dir():
        raise SchemaError(f"{root} does not exist: unexpected kubernetes-validate layout")
    return root


def available_versions() -> list[str]:
    return sorted(p.name[1:].removesuffix("-local-strict") for p in wheel_schemas().glob("v*-local-strict"))


def _rewrite(node: Any, refs: set[str], names: bool = False) -> Any:
    """Copy schema `node` with remote refs made local and `description`s dropped (kubeconform does
    not use them, and their kubernetes.io links would hide a real remote reference from the
    "nothing points at kubernetes.io" check). Collects the definition names referenced.
    `names`: node maps property/definition names to schemas (a property may be called description).
    """
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if names:
                out[key] = _rewrite(value, refs)
                continue
            if key == "description":
                continue
            if key == "$ref" and isinstance(value, str):
                if value.startswith(REMOTE_PREFIX):
                    value = LOCAL_PREFIX + value[len(REMOTE_PREFIX) :]
                if not value.startswith(LOCAL_PREFIX):
                    raise SchemaError(f"unexpected $ref {value!r}")
                refs.add(value[len(LOCAL_PREFIX) :])
            out[key] = _rewrite(value, refs, names=key in NAME_MAPS)
        return out
    if isinstance(node, list):
        return [_rewrite(v, refs) for v in node]
    return node


def standalone(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """`schema` with every definition it reaches inlined under `$defs`, without `$id`."""
    refs: set[str] = set()
    top = _rewrite({k: v for k, v in schema.items() if k != "$id"}, refs)
    defs: dict[str, Any] = {}
    todo = sorted(refs)
    while todo:
        name = todo.pop()
        if name in defs:
            continue
        if name not in definitions:
            raise SchemaError(f"definition {name!r} is not in the wheel's _definitions.json")
        found: set[str] = set()
        defs[name] = _rewrite(definitions[name], found)
        todo += sorted(found - defs.keys())
    if defs:
        top["$defs"] = dict(sorted(defs.items()))
    return top


def _fingerprint(src: Path) -> str:
    h = hashlib.sha256(Path(__file__).read_bytes())
    for f in sorted(src.glob("*.json")):
        h.update(f.name.encode())
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def generate(version: str, dest: Path = DEST) -> Path:
    """Write (or reuse) the standalone strict schemas of Kubernetes `version` (X.Y.Z)."""
    src = wheel_schemas() / f"v{version}-local-strict"
    if not src.is_dir():
        raise SchemaError(
            f"the wheel has no schemas for Kubernetes {version} (available: {', '.join(available_versions())})"
        )
    out = dest / f"v{version}-standalone-strict"
    fingerprint = _fingerprint(src)
    stamp = out / STAMP
    dest.mkdir(parents=True, exist_ok=True)
    # One writer at a time: without the lock a worker could replace the directory while another, which
    # found it complete a moment before, has kubeconform reading it ("could not find schema").
    with (dest / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == fingerprint:
            return out
        _write(src, out, fingerprint, dest / f".tmp-v{version}-{os.getpid()}")
    return out


def _write(src: Path, out: Path, fingerprint: str, tmp: Path) -> None:
    """The standalone schemas of `src` into `out` (through `tmp`, renamed when complete)."""
    definitions = json.loads((src / "_definitions.json").read_text(encoding="utf-8"))["$defs"]
    saferm.remove_tree(tmp)
    tmp.mkdir(parents=True)
    for f in sorted(src.glob("*.json")):
        if f.name == "_definitions.json":
            continue
        schema = json.loads(f.read_text(encoding="utf-8"))
        if "x-kubernetes-group-version-kind" not in schema:
            continue  # a sub-type, never looked up by kubeconform
        (tmp / f.name).write_text(json.dumps(standalone(schema, definitions), separators=(",", ":")), encoding="utf-8")
    (tmp / STAMP).write_text(fingerprint + "\n", encoding="utf-8")
    with contextlib.suppress(FileNotFoundError):  # from other schemas or code: no reader of this run uses it
        saferm.remove_tree(out)
    tmp.rename(out)


def ensure(versions: Iterable[str], dest: Path = DEST) -> Path:
    """Generate every version; return the directory to pass as kubeconform `-schema-location`."""
    for v in versions:
        generate(v, dest)
    return dest


def main(argv: list[str]) -> int:
    versions = argv or ["1.31.0", "1.33.0", "1.35.0"]
    for v in versions:
        out = generate(v)
        print(f"{out}: {sum(1 for _ in out.glob('*.json'))} schemas")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
