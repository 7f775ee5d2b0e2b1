"""Run policies on a Scenario and collect KPIs and per-session schedules (the --json shape)."""

from __future__ import annotations

import logging
import time

from csms.charging import POLICIES, online_schedule, schedule
from csms.charging.expected import FutureDemand
from csms.evaluate.metrics import add_savings, kpis
from csms.evaluate.scenario import Scenario, to_problem

log = logging.getLogger(__name__)


def evaluate(scenario: Scenario, policies: list[str] | None = None, oracle: bool = False,
             with_sessions: bool = True, future: FutureDemand | None = None) -> dict:
    """``{"scenario", "period_s", "mode", "results": {policy: {...kpis, sessions}}}``.

    Uncontrolled always runs (the baseline for savings) even if not asked for. ``future``
    (online only): the expected cars to come over the scenario's periods; the report then
    says ``"forecast_cars"``, how many were expected.
    """
    policies = list(policies or POLICIES)
    for name in policies:
        if name not in POLICIES:
            raise ValueError(f"unknown policy {name!r}; choose from {', '.join(POLICIES)}")
    run_list = ["uncontrolled", *[p for p in policies if p != "uncontrolled"]]
    t0 = time.perf_counter()
    problem = to_problem(scenario)
    log.debug("scenario %s: %d sessions x %d periods built in %.2f s", scenario.name,
              problem.n_sessions, problem.n_periods, time.perf_counter() - t0)
    results, schedules = {}, {}
    for name in run_list:
        result = schedule(problem, name) if oracle else online_schedule(problem, name,
                                                                         future=future)
        schedules[name] = result
        entry = kpis(problem, result.power_kw)
        entry["runtime_s"] = result.runtime_s
        if with_sessions:
            delivered = result.delivered_kwh(problem.period_h)
            entry["sessions"] = {
                sid: {"power_kw": [round(float(v), 4) for v in result.power_kw[i]],
                      "delivered_kwh": float(delivered[i])}
                for i, sid in enumerate(problem.session_ids)}
        results[name] = entry
    add_savings(results)
    if "uncontrolled" not in policies:
        results.pop("uncontrolled")
    report = {"scenario": scenario.name, "period_s": scenario.period_s,
              "mode": "oracle" if oracle else "online", "results": results,
              "_problem": problem, "_schedules": schedules}
    if future is not None and not oracle:
        report["forecast_cars"] = float(future.cars.sum())
    return report
