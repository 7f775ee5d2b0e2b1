"""Server-rendered SVG charts (no JavaScript chart library, works offline).

Every chart is an ``<svg role="img">`` with a <title> for screen readers; pages also show the
numbers in a table. Colours come from CSS classes (``s0``.. ``s7``, ``limit``) in console.css.
A chart is as wide as its card (viewBox, ``width: 100%``); on a phone console.css draws its text
larger (in viewBox units) and hides every other x label (``tick odd``), so the margins below
leave room for text of up to 20 units.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

W, H = 640, 240
PAD_L, PAD_R, PAD_T, PAD_B = 56, 12, 28, 36
COLOURS = 8  # series classes s0..s7 in console.css


def _fmt(v: float) -> str:
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.1f}" if abs(v) >= 1 or v == 0 else f"{v:.2f}"


def _tick(v: float) -> str:
    """An axis label: whole numbers from 10 up (a phone's 21-px font in the 52 px left of the
    plot fits "-100" but not "-19.4", whose minus a V2G site's discharge brings)."""
    return f"{v:.0f}" if abs(v) >= 10 else _fmt(v)


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for step in (1, 2, 2.5, 5, 10):
        if v <= step * exp:
            return step * exp
    return 10 * exp


def line_chart(title: str, x_labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]],
               limit: float | None = None, limit_label: str = "limit", unit: str = "kW",
               y_min: float | None = None) -> Markup:
    """Lines over a shared x axis. ``series``: [(name, values (T,))]; NaN leaves a gap."""
    t = max((len(v) for _, v in series), default=0)
    finite = [x for _, vals in series for x in vals if x is not None and math.isfinite(x)]
    if limit is not None:
        finite.append(limit)
    hi = _nice_max(max(finite, default=1.0))
    lo = min(0.0, min(finite, default=0.0)) if y_min is None else y_min
    span = (hi - lo) or 1.0
    pw, ph = W - PAD_L - PAD_R, H - PAD_T - PAD_B

    def xy(i: int, v: float) -> tuple[float, float]:
        x = PAD_L + (pw * i / max(t - 1, 1))
        return x, PAD_T + ph * (1 - (v - lo) / span)

    parts = [_frame(title, lo, hi, unit)]
    for n, (name, vals) in enumerate(series):
        path, pen = [], "M"
        for i, v in enumerate(vals):
            if v is None or not math.isfinite(v):
                pen = "M"
                continue
            x, y = xy(i, v)
            path.append(f"{pen}{x:.1f},{y:.1f}")
            pen = "L"
        if path:
            parts.append(f'<path class="line s{n % COLOURS}" d="{" ".join(path)}"><title>'
                         f'{escape(name)}</title></path>')
    if limit is not None:
        _, y = xy(0, limit)
        parts.append(f'<line class="limit" x1="{PAD_L}" x2="{W - PAD_R}" y1="{y:.1f}" '
                     f'y2="{y:.1f}"><title>{escape(limit_label)} {_fmt(limit)} {unit}</title></line>')
    parts.append(_x_ticks(x_labels, lambda i: xy(i, lo)[0]))
    legend = [(name, f"s{n % COLOURS}") for n, (name, _) in enumerate(series)]
    if limit is not None:
        legend.append((f"{limit_label} {_fmt(limit)} {unit}", "limit"))
    return _wrap(title, parts, legend)


def bar_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]],
              unit: str = "") -> Markup:
    """Stacked bars: one bar per label, one segment per series."""
    n = len(labels)
    totals = [sum(max(0.0, s[1][i]) for s in series) for i in range(n)]
    hi = _nice_max(max(totals, default=1.0))
    pw, ph = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    slot = pw / max(n, 1)
    parts = [_frame(title, 0.0, hi, unit)]
    for i in range(n):
        y0 = PAD_T + ph
        for k, (name, vals) in enumerate(series):
            h = ph * max(0.0, vals[i]) / hi
            y0 -= h
            parts.append(f'<rect class="bar s{k % COLOURS}" x="{PAD_L + i * slot + slot * 0.15:.1f}" '
                         f'y="{y0:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}"><title>'
                         f'{escape(labels[i])} {escape(name)}: {_fmt(vals[i])} {unit}</title></rect>')
    parts.append(_x_ticks(labels, lambda i: PAD_L + i * slot + slot / 2))
    return _wrap(title, parts, [(name, f"s{k % COLOURS}") for k, (name, _) in enumerate(series)]
                 if len(series) > 1 else [])


def scatter_chart(title: str, points: Sequence[tuple[float, float, str]], x_unit: str,
                  y_unit: str, y_range: tuple[float, float]) -> Markup:
    """One dot per (x, y, label); x from 0 to a round maximum, y over ``y_range``."""
    hi_x = _nice_max(max((x for x, _, _ in points), default=1.0))
    lo, hi = y_range
    pw, ph = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    parts = [_frame(title, lo, hi, y_unit)]
    for x, y, label in points:
        cx = PAD_L + pw * x / hi_x
        cy = PAD_T + ph * (1 - (min(max(y, lo), hi) - lo) / ((hi - lo) or 1.0))
        parts.append(f'<circle class="dot s0" cx="{cx:.1f}" cy="{cy:.1f}" r="4"><title>'
                     f'{escape(label)}: {_fmt(x)} {escape(x_unit)}, {_fmt(y)} '
                     f'{escape(y_unit)}</title></circle>')
    ticks = [_fmt(hi_x * k / 4) for k in range(5)]
    parts.append(_x_ticks([f"{t} {x_unit}" if k == 4 else t for k, t in enumerate(ticks)],
                          lambda i: PAD_L + pw * i / 4))
    return _wrap(title, parts, [])


def radar_chart(title: str, axes: Sequence[tuple[str, float]]) -> Markup:
    """Values as a share of their threshold (1.0 = at the limit, drawn as the red ring)."""
    size, c, r = 300, 150, 100
    k = len(axes)
    scale = max(1.5, max((v for _, v in axes), default=1.0))

    def pt(i: int, v: float) -> tuple[float, float]:
        a = -math.pi / 2 + 2 * math.pi * i / k
        return c + r * v / scale * math.cos(a), c + r * v / scale * math.sin(a)

    parts = [f"<title>{escape(title)}</title>"]
    for ring, cls in ((0.5, "grid"), (1.0, "limit"), (scale, "grid")):
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (pt(i, ring) for i in range(k)))
        parts.append(f'<polygon class="{cls}" points="{pts}" fill="none"/>')
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (pt(i, min(v, scale)) for i, (_, v) in
                                                     enumerate(axes)))
    parts.append(f'<polygon class="area s0" points="{pts}"/>')
    for i, (name, v) in enumerate(axes):
        # the name in short lines and the value below it, so a label stays narrow; a label
        # above the centre ends at its point, one below starts there
        x, y = pt(i, scale * 1.12)
        anchor = "middle" if abs(x - c) < 20 else ("start" if x > c else "end")
        lines = [*_lines(name), f"{v * 100:.0f}%"]
        first = (f"{-(len(lines) - 1) * 1.1:.1f}em" if y < c - 20 else
                 "0.8em" if y > c + 20 else f"{-(len(lines) - 1) * 0.55 + 0.35:.2f}em")
        spans = "".join(f'<tspan x="{x:.1f}" dy="{first if k == 0 else "1.1em"}">'
                        f'{escape(line)}</tspan>' for k, line in enumerate(lines))
        parts.append(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{spans}</text>')
    body = "".join(parts)
    return Markup(f'<svg class="chart radar" viewBox="-125 -45 {size + 250} {size + 90}" '
                  f'role="img" aria-label="{escape(title)}">{body}</svg>')


def _frame(title: str, lo: float, hi: float, unit: str) -> str:
    ph = H - PAD_T - PAD_B
    out = [f"<title>{escape(title)}</title>"]
    for f in (0.0, 0.5, 1.0):
        y = PAD_T + ph * (1 - f)
        out.append(f'<line class="grid" x1="{PAD_L}" x2="{W - PAD_R}" y1="{y:.1f}" y2="{y:.1f}"/>'
                   f'<text x="{PAD_L - 4}" y="{y + 4:.1f}" text-anchor="end">'
                   f'{_tick(lo + f * (hi - lo))}</text>')
    out.append(f'<text x="{PAD_L}" y="18" class="unit">{escape(unit)}</text>')
    return "".join(out)


def _x_ticks(labels: Sequence[str], x_of, max_ticks: int = 8) -> str:
    """Every ``step``-th label, centred on its point; one near an edge starts or ends there (off
    the y labels, not cut off); every other one is ``odd`` (hidden on a phone)."""
    n = len(labels)
    step = max(1, math.ceil(n / max_ticks))
    out = []
    for k, i in enumerate(range(0, n, step)):
        x = x_of(i)
        anchor = "end" if x > W - PAD_R - 40 else "start" if x < PAD_L + 30 else "middle"
        out.append(f'<text class="tick{" odd" if k % 2 else ""}" x="{x:.1f}" y="{H - 8}" '
                   f'text-anchor="{anchor}">{escape(labels[i])}</text>')
    return "".join(out)


def _lines(text: str, width: int = 13) -> list[str]:
    """``text`` in lines of about ``width`` characters, broken between words."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _wrap(title: str, parts: list[str], legend: list[tuple[str, str]]) -> Markup:
    svg = (f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}">'
           f'{"".join(parts)}</svg>')
    if legend:
        items = "".join(f'<li><span class="key {cls}" aria-hidden="true"></span>{escape(name)}</li>'
                        for name, cls in legend)
        svg += f'<ul class="legend">{items}</ul>'
    return Markup(svg)
