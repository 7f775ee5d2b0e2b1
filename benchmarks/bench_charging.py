"""Smart-charging engine: oracle price optimisation and peak shaving at 1,000 sessions x 96
periods, and an online (re-plan every period) day of 1,000 sessions.

Workload: ``csms.charging.synthetic.workplace_day(1000, seed)`` (ACN-like arrivals and stays,
7/11 kW EVs, base load; the site capacity binds at the morning arrival peak).
"""

from __future__ import annotations

import time

import numpy as np

from csms.charging import max_energy_kwh, online_schedule, schedule
from csms.charging.synthetic import workplace_day

REPEATS = 3


def _oracle(problem, policy: str) -> tuple[float, float, float]:
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        result = schedule(problem, policy)
        times.append(time.perf_counter() - t0)
    delivered = result.power_kw.sum() * problem.period_h
    return min(times), float(np.median(times)), delivered


def run() -> str:
    problem = workplace_day(1000, seed=1)
    best = max_energy_kwh(problem)
    rows = ["| case | sessions x periods | min s | median s | delivered kWh | max-flow kWh |",
            "|---|---|---:|---:|---:|---:|"]
    for policy in ("price_optimization", "peak_shaving"):
        lo, med, delivered = _oracle(problem, policy)
        rows.append(f"| oracle {policy} | {problem.n_sessions} x {problem.n_periods} | "
                    f"{lo:.3f} | {med:.3f} | {delivered:.1f} | {best:.1f} |")
    for policy in ("price_optimization", "peak_shaving"):
        t0 = time.perf_counter()
        result = online_schedule(problem, policy)
        elapsed = time.perf_counter() - t0
        delivered = result.power_kw.sum() * problem.period_h
        rows.append(f"| online day {policy} (re-plan every period) | {problem.n_sessions} x "
                    f"{problem.n_periods} | {elapsed:.2f} | {elapsed:.2f} | {delivered:.1f} | "
                    f"{best:.1f} |")
    return ("## Smart charging (csms.charging)\n\n"
            "Synthetic workplace day `workplace_day(1000, seed=1)`: "
            f"{int(problem.available.sum())} session-periods, site capacity "
            f"{problem.capacity_kw[0]:.0f} kW. Oracle times are the best and median of "
            f"{REPEATS} runs (HiGHS via scipy.optimize.linprog); online is one run.\n\n"
            + "\n".join(rows))
