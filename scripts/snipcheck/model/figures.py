"""Measured figures: which measurement keys a page may quote, and how a value is written.

The number is written the same way in Russian and English (decimal point, no thousands separator), so a
figure quoted in both languages cannot drift apart; the unit is the page's: "33.3 MB", "0.44 s", "19%" in
English, "33.3 МБ", "0.44 с", "19 %" in Russian.
"""

from __future__ import annotations

import re
from typing import Any

from .checks import CHECKS


def _units() -> dict[str, str]:
    """Measurement key -> unit ("" for counts and codes), from the checks that record them
    (snipcheck.model.checks: Check.figures); a placeholder naming another key fails the build."""
    units: dict[str, str] = {}
    for name, check in CHECKS.items():
        for key, unit in check.figures.items():
            if units.setdefault(key, unit) != unit:
                raise ValueError(f"figure {key!r}: unit {unit!r} in check {name!r}, {units[key]!r} in another")
    return units


FIGURES: dict[str, str] = _units()

# figures derived from recorded ones (the recorder stores bytes; pages quote MB and percentages), and the
# recorded key each is derived from
DERIVED_FROM = {
    "binary_mb": "binary_bytes",
    "binary_stripped_mb": "binary_stripped_bytes",
    "binary_stripped_saving_pct": "binary_stripped_bytes",
}
DERIVED = {
    "binary_mb": lambda rec: _mb(rec.get("binary_bytes")),
    "binary_stripped_mb": lambda rec: _mb(rec.get("binary_stripped_bytes")),
    "binary_stripped_saving_pct": lambda rec: (
        round(100 * (1 - rec["binary_stripped_bytes"] / rec["binary_bytes"]))
        if rec.get("binary_bytes") and rec.get("binary_stripped_bytes")
        else None
    ),
}


def _mb(value: Any) -> float | None:
    return round(value / 1e6, 1) if isinstance(value, int | float) else None


def value_of(rec: dict[str, Any], key: str) -> Any:
    if key in DERIVED:
        return DERIVED[key](rec)
    return rec.get(key)


def number(value: Any) -> str:
    """1092.6 -> '1092.6', 0.150 -> '0.15', 3.0 -> '3', True -> 'yes', ['miss', 'hit'] -> 'miss, hit'.
    What a report holds beyond numbers goes into pages as Markdown and into SVG: only letters, digits,
    spaces and . , : ; / + = % ( ) - pass, anything else becomes '?', so a crafted report can show odd
    text but never markup (review L6)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        return text or "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return ", ".join(number(v) for v in value)
    return UNSAFE.sub("?", str(value))


UNSAFE = re.compile(r"[^\w .,:;/+=%()-]|_", re.ASCII)


UNITS_RU = {"s": "с", "ms": "мс", "MB": "МБ", "KB": "КБ", "GB": "ГБ"}


def unit_in(unit: str, lang: str = "en") -> str:
    """A unit as a page in `lang` writes it."""
    return UNITS_RU.get(unit, unit) if lang == "ru" else unit


def with_unit(key: str, value: Any, lang: str = "en") -> str:
    unit = FIGURES.get(key, "")
    if unit == "×":
        return f"×{number(value)}"
    if unit == "%":
        return f"{number(value)} %" if lang == "ru" else f"{number(value)}%"
    return f"{number(value)} {unit_in(unit, lang)}".strip()
