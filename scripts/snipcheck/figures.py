"""Measured figures: which measurement keys a page may quote, and how a value is written.

The same value is written the same way in Russian and English (decimal point, MB, s), so a
figure quoted in both languages cannot drift apart.
"""

from __future__ import annotations

import re
from typing import Any

# measurement key -> unit ("" for counts and codes); a placeholder naming another key fails the build
FIGURES: dict[str, str] = {
    "image_mb": "MB",
    "compared_image_mb": "MB",
    "single_stage_mb": "MB",
    "multi_stage_mb": "MB",
    "size_budget_mb": "MB",
    "binary_mb": "MB",
    "binary_stripped_mb": "MB",
    "binary_stripped_saving_pct": "%",
    "ratio": "×",
    "seconds_to_http_200": "s",
    "compared_seconds_to_http_200": "s",
    "seconds_to_healthy": "s",
    "seconds_to_stop": "s",
    "stop_timeout": "s",
    "build_seconds": "s",
    "app_started_before_db_ready_s": "s",
    "app_started_after_db_ready_s": "s",
    "seconds_edit_to_new_response": "s",
    "seconds_to_503_after_redis_stop": "s",
    "seconds_to_200_after_redis_start": "s",
    "exit_code": "",
    "uid": "",
    "restart_count": "",
    "resources": "",
    "ca_certs": "",
}

# figures derived from recorded ones (the recorder stores bytes; pages quote MB and percentages)
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


def with_unit(key: str, value: Any) -> str:
    unit = FIGURES.get(key, "")
    if unit == "×":
        return f"×{number(value)}"
    if unit == "%":
        return f"{number(value)} %"
    return f"{number(value)} {unit}".strip()
