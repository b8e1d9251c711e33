"""The package's import rule, checked from the source (`ast`), not kept by discipline:

    model  <-  i18n, run  <-  rules, harness, site  <-  explain, scaffold, the CLI

A wing imports only itself and the wings to its left (model imports no other wing; wings of one column do
not import each other, so the site never imports the harness); nothing in snipcheck imports pytest.
A failure names the file, the line and the import that breaks the rule.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from snipcheck.model.paths import SCRIPTS

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]

PACKAGE = SCRIPTS / "snipcheck"
LAYER = {"model": 0, "i18n": 1, "run": 1, "rules": 2, "harness": 2, "site": 2, "top": 3}
TOP_MODULES = {"__init__", "__main__", "explain", "scaffold"}


def wing_of(module: str) -> str:
    """`snipcheck.site.proof` -> "site"; `snipcheck.explain` / `snipcheck` -> "top"."""
    parts = module.split(".")
    if len(parts) < 2 or parts[1] in TOP_MODULES:
        return "top"
    return parts[1]


def module_name(path: Path, package: Path) -> str:
    rel = path.relative_to(package.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(node: ast.ImportFrom | ast.Import, here: str, is_package: bool) -> list[str]:
    """Absolute names of what an import statement imports from (one per imported module or name)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level == 0:
        base = node.module or ""
    else:
        parts = here.split(".") if is_package else here.split(".")[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join([*parts, *([node.module] if node.module else [])])
    # `from snipcheck import model` / `from ..site import proof`: the names may be modules of that package
    return [f"{base}.{a.name}" for a in node.names] if base.count(".") <= 1 else [base]


def problems(package: Path) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        here = module_name(path, package)
        wing = wing_of(here)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for name in imported(node, here, path.name == "__init__.py"):
                where = f"{path.relative_to(package.parent.parent)}:{node.lineno}"
                if name == "pytest" or name.startswith("pytest.") or name.startswith("_pytest"):
                    found.append(f"{where}: imports pytest — the package serves the CLI and the hooks too")
                if not name.startswith("snipcheck.") and name != "snipcheck":
                    continue
                target = wing_of(name)
                if target == wing or target not in LAYER or wing not in LAYER:
                    continue
                if LAYER[target] >= LAYER[wing]:
                    found.append(
                        f"{where}: {here} ({wing}) imports {name} ({target}) — a wing imports only the wings "
                        f"to its left (model <- i18n, run <- rules, harness, site <- explain, CLI): move the "
                        f"shared code down, or pass it in"
                    )
    return found


def test_the_package_keeps_its_import_rule() -> None:
    found = problems(PACKAGE)
    assert not found, "\n".join(found)


def test_every_module_belongs_to_a_wing() -> None:
    """A new module lands in one of the wings (or is one of the few top-level commands)."""
    strays = [str(p.relative_to(PACKAGE)) for p in PACKAGE.glob("*.py") if p.stem not in TOP_MODULES] + [
        str(d.relative_to(PACKAGE)) for d in PACKAGE.iterdir() if d.is_dir() and d.name not in {*LAYER, "__pycache__"}
    ]
    assert not strays, f"modules outside the wings {sorted(set(LAYER) - {'top'})}: {strays}"


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("model/checks.py", "from ..site import proof\n", "(model) imports snipcheck.site.proof (site)"),
        ("site/proof.py", "from ..harness.docker import cli\n", "(site) imports snipcheck.harness.docker (harness)"),
        ("run/report.py", "from snipcheck.rules import inventory\n", "(run) imports snipcheck.rules.inventory"),
        ("harness/proc.py", "import pytest\n", "imports pytest"),
    ],
    ids=["model-imports-site", "site-imports-harness", "run-imports-rules", "pytest"],
)
def test_an_upward_import_is_named(tmp_path: Path, path: str, source: str, expected: str) -> None:
    """The rule fails on a deliberate upward import, in a copy of the package."""
    import shutil

    copy = tmp_path / "scripts" / "snipcheck"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert problems(copy) == []
    target = copy / path
    target.write_text(target.read_text(encoding="utf-8") + "\n" + source, encoding="utf-8")
    found = problems(copy)
    assert any(expected in p and f"snipcheck/{path}:" in p for p in found), found
