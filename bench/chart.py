"""An SVG bar chart of the load benchmark, written without a plotting library."""

from __future__ import annotations

import math
from typing import Any
from xml.sax.saxutils import escape

WIDTH, PANEL_HEIGHT, LEFT, TOP = 760, 230, 60, 40
COLORS = {"litellm": "#9aa5b1", "gateway": "#2b6cb0"}
LABELS = {"litellm": "LiteLLM Proxy", "gateway": "gateway"}


def load_chart(rows: list[dict[str, Any]]) -> str:
    """Return two panels, requests per second and p50 latency, one bar pair per row."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{2 * PANEL_HEIGHT + 70}" font-family="sans-serif" font-size="11">',
        f'<rect width="{WIDTH}" height="{2 * PANEL_HEIGHT + 70}" fill="white"/>',
    ]
    parts += _panel(rows, "rps", "requests per second (higher is better)", TOP)
    title = "p50 latency, ms, log scale (lower is better)"
    parts += _panel(rows, "p50_ms", title, TOP + PANEL_HEIGHT, log=True)
    parts += _legend(2 * PANEL_HEIGHT + 50)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _panel(
    rows: list[dict[str, Any]], metric: str, title: str, top: int, log: bool = False
) -> list[str]:
    height = PANEL_HEIGHT - 70
    scale = math.log10 if log else float
    peak = max(scale(1 + row[name][metric]) for row in rows for name in COLORS) or 1.0
    slot = (WIDTH - LEFT - 20) / len(rows)
    parts = [f'<text x="{LEFT}" y="{top - 12}" font-size="13">{escape(title)}</text>']
    parts.append(
        f'<line x1="{LEFT}" y1="{top + height}" x2="{WIDTH - 20}" '
        f'y2="{top + height}" stroke="#333"/>'
    )
    for index, row in enumerate(rows):
        x = LEFT + index * slot + slot * 0.15
        bar = slot * 0.35
        for offset, name in enumerate(COLORS):
            value = row[name][metric]
            size = height * scale(1 + value) / peak
            left = x + offset * bar
            parts.append(
                f'<rect x="{left:.1f}" y="{top + height - size:.1f}" '
                f'width="{bar - 2:.1f}" height="{size:.1f}" fill="{COLORS[name]}"/>'
            )
            parts.append(
                f'<text x="{left + bar / 2 - 1:.1f}" y="{top + height - size - 3:.1f}" '
                f'text-anchor="middle" font-size="9">{_label(value)}</text>'
            )
        label = f"{row['mode']} c={row['connections']}"
        parts.append(
            f'<text x="{x + bar:.1f}" y="{top + height + 14}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    return parts


def _legend(y: int) -> list[str]:
    parts = []
    for index, name in enumerate(COLORS):
        x = LEFT + index * 150
        parts.append(
            f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{COLORS[name]}"/>'
        )
        parts.append(f'<text x="{x + 18}" y="{y}">{LABELS[name]}</text>')
    return parts


def _label(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"
