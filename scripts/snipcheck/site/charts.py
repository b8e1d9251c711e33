"""Small SVG bar charts of measured figures, drawn from the run report at build time.

Each chart is a list of bars, each bar one measured figure of one snippet (snippet, check, key).
The SVG uses currentColor only, so it reads in the light and the dark theme; the same numbers
are also given as a text list for screen readers. Without a report there is no chart, only a
sentence saying the figures appear after a run.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from ..model.figures import value_of, with_unit
from ..run.results import Results


@dataclass(frozen=True)
class Bar:
    ru: str
    en: str
    snippet: str
    check: str
    key: str


@dataclass(frozen=True)
class Chart:
    ru: str
    en: str
    bars: tuple[Bar, ...]


CHARTS: dict[str, Chart] = {
    "image-sizes": Chart(
        "Размер образа, МБ",
        "Image size, MB",
        (
            Bar(
                "один stage (golang SDK)",
                "single stage (golang SDK)",
                "docker/bad/Dockerfile",
                "image-antipattern",
                "single_stage_mb",
            ),
            Bar(
                "multi-stage → scratch",
                "multi-stage → scratch",
                "docker/multi-stage/Dockerfile",
                "image-run",
                "image_mb",
            ),
            Bar("scratch + CA + tzdata", "scratch + CA + tzdata", "docker/scratch/Dockerfile", "image-run", "image_mb"),
            Bar("distroless/static", "distroless/static", "docker/distroless/Dockerfile", "image-run", "image_mb"),
            Bar("alpine", "alpine", "docker/alpine/Dockerfile", "image-run", "image_mb"),
            Bar('-ldflags="-s -w"', '-ldflags="-s -w"', "docker/size/ldflags/Dockerfile", "image-run", "image_mb"),
            Bar("-s -w + UPX", "-s -w + UPX", "docker/size/upx/Dockerfile", "image-run", "image_mb"),
        ),
    ),
    "upx-start": Chart(
        "Старт до HTTP 200, с",
        "Start to HTTP 200, s",
        (
            Bar("без UPX", "without UPX", "docker/size/upx/Dockerfile", "image-run", "compared_seconds_to_http_200"),
            Bar("с UPX", "with UPX", "docker/size/upx/Dockerfile", "image-run", "seconds_to_http_200"),
        ),
    ),
    "stop-times": Chart(
        "docker stop, с",
        "docker stop, s",
        (
            Bar(
                "shell-форма CMD",
                "shell-form CMD",
                "production/signals/shell-form.Dockerfile",
                "image-antipattern",
                "seconds_to_stop",
            ),
            Bar(
                "exec-форма CMD",
                "exec-form CMD",
                "production/signals/exec-form.Dockerfile",
                "image-run",
                "seconds_to_stop",
            ),
        ),
    ),
}


def _value(results: Results, bar: Bar) -> float | None:
    for rec in results.records(bar.snippet, bar.check):
        if rec.get("result") == "passed":
            v = value_of(rec, bar.key)
            if isinstance(v, int | float):
                return float(v)
    return None


def render(name: str, results: Results, lang: str) -> str:
    chart = CHARTS[name]
    title = chart.ru if lang == "ru" else chart.en
    e = html.escape
    if not results.present:
        note = "Цифры появятся после прогона тестов" if lang == "ru" else "The figures appear after a test run"
        return f'<p class="sc-chart-empty"><em>{e(title)}: {e(note)}.</em></p>'
    rows = [((b.ru if lang == "ru" else b.en), b, _value(results, b)) for b in chart.bars]
    top = max((v for _, _, v in rows if v is not None), default=1.0) or 1.0
    label_w, bar_w, row_h = 210, 330, 22
    height = row_h * len(rows) + 8
    width_px = label_w + bar_w + 90
    parts = [
        f'<svg class="sc-chart" role="img" aria-labelledby="{name}-{lang}-t" viewBox="0 0 {width_px} {height}" '
        f'width="{width_px}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{name}-{lang}-t">{e(title)}</title>',
    ]
    not_run = "не измерено" if lang == "ru" else "not measured"
    for i, (label, bar, value) in enumerate(rows):
        y = 4 + i * row_h
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" fill="currentColor">{e(label)}</text>')
        if value is None:
            parts.append(f'<text x="{label_w}" y="{y + 15}" fill="currentColor" opacity="0.6">{not_run}</text>')
            continue
        width = max(1.0, bar_w * value / top)
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{width:.1f}" height="{row_h - 8}" '
            f'fill="currentColor" opacity="0.55"/>'
        )
        parts.append(
            f'<text x="{label_w + width + 6:.1f}" y="{y + 15}" fill="currentColor">'
            f"{e(with_unit(bar.key, value, lang))}</text>"
        )
    parts.append("</svg>")
    items = " · ".join(
        f"{e(label)}: {e(with_unit(b.key, v, lang)) if v is not None else not_run}" for label, b, v in rows
    )
    return (
        f'<figure class="sc-figure">{"".join(parts)}<figcaption><strong>{e(title)}</strong>'
        f'<span class="sc-chart-text">{items}</span></figcaption></figure>'
    )
