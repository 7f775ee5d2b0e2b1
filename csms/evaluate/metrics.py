"""KPIs of a schedule; savings are always against uncontrolled on the same sessions.

``cost_mad`` = sum_t price_t * max(0, base + EV - PV)_t * period (the site's energy bill);
``ev_cost_mad`` = that minus the bill without any EV (what the charging adds);
``mad_per_kwh`` = ev_cost_mad / delivered kWh.
"""

from __future__ import annotations

import numpy as np

from csms.charging import Problem


def kpis(problem: Problem, power_kw: np.ndarray) -> dict:
    """Scalar KPIs of a schedule (N, T)."""
    p = problem
    dt = p.period_h
    site = p.site_import_kw(power_kw)
    imp = np.maximum(site, 0.0)
    base_imp = np.maximum(p.base_load_kw - p.pv_kw, 0.0)
    cost = float(np.sum(p.price_mad_per_kwh * imp) * dt)
    ev_cost = cost - float(np.sum(p.price_mad_per_kwh * base_imp) * dt)
    delivered = float(power_kw.sum() * dt)
    peak = float(site.max()) if site.size else 0.0
    mean_import = float(imp.mean()) if imp.size else 0.0
    pv_total = float(p.pv_kw.sum() * dt)
    consumption = p.base_load_kw + power_kw.sum(axis=0)
    pv_used = float(np.minimum(p.pv_kw, np.maximum(consumption, 0.0)).sum() * dt)
    return {
        "energy_requested_kwh": float(p.energy_kwh.sum()),
        "energy_delivered_kwh": delivered,
        "cost_mad": cost,
        "ev_cost_mad": ev_cost,
        "mad_per_kwh": ev_cost / delivered if delivered > 0 else 0.0,
        "peak_kw": peak,
        "load_factor": mean_import / peak if peak > 0 else 0.0,
        "pv_self_consumption_pct": 100.0 * pv_used / pv_total if pv_total > 0 else None,
        "v2g_kwh": float(-np.minimum(power_kw, 0.0).sum() * dt) + 0.0,
        "site_limit_exceeded_periods": int(np.sum(site > p.capacity_kw + 1e-6)),
    }


def add_savings(results: dict) -> None:
    """Add ``savings_mad`` and ``savings_pct`` vs the uncontrolled result (in place)."""
    base = results.get("uncontrolled")
    if base is None:
        return
    for r in results.values():
        r["savings_mad"] = base["cost_mad"] - r["cost_mad"]
        r["savings_pct"] = (100.0 * r["savings_mad"] / base["cost_mad"]
                            if base["cost_mad"] else 0.0)
