"""The comparison table (Markdown, also readable in a terminal) and the site-load plot."""

from __future__ import annotations

import numpy as np

COLUMNS = [  # header, key, format
    ("policy", None, "{}"),
    ("requested kWh", "energy_requested_kwh", "{:.1f}"),
    ("delivered kWh", "energy_delivered_kwh", "{:.1f}"),
    ("cost MAD", "cost_mad", "{:.2f}"),
    ("EV MAD/kWh", "mad_per_kwh", "{:.3f}"),
    ("peak kW", "peak_kw", "{:.1f}"),
    ("load factor", "load_factor", "{:.2f}"),
    ("PV self-use %", "pv_self_consumption_pct", "{:.1f}"),
    ("V2G kWh", "v2g_kwh", "{:.1f}"),
    ("savings MAD", "savings_mad", "{:.2f}"),
    ("savings %", "savings_pct", "{:.1f}"),
    ("over-limit periods", "site_limit_exceeded_periods", "{}"),
    ("runtime s", "runtime_s", "{:.2f}"),
]


def markdown_table(results: dict) -> str:
    head = "| " + " | ".join(c[0] for c in COLUMNS) + " |"
    rule = "|" + "|".join("---" if c[1] is None else "---:" for c in COLUMNS) + "|"
    lines = [head, rule]
    for name, r in results.items():
        cells = []
        for _, key, fmt in COLUMNS:
            value = name if key is None else r.get(key)
            cells.append("-" if value is None else fmt.format(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_site_load(report: dict, path: str) -> None:
    """PNG of the site import per policy over the horizon."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    problem = report["_problem"]
    hours = np.arange(problem.n_periods) * problem.period_h
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for name, result in report["_schedules"].items():
        ax.step(hours, problem.site_import_kw(result.power_kw), where="post", label=name, lw=1)
    ax.step(hours, problem.capacity_kw, where="post", color="black", ls="--", label="capacity")
    ax.set_xlabel("hours from start")
    ax.set_ylabel("site import kW")
    ax.set_title(f"{report['scenario']} ({report['mode']})")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
