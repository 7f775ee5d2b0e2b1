"""Online quality on congested days: a policy's online energy as a share of the deliverable.

    python -m csms.evaluate.congestion [--csv PATH] [--month 2019-10] [--capacity-kw 30]
                                       [--quiet-days]

A day is congested when the site limit takes energy away: the most energy deliverable under
the limit (``E_max``, the max-flow value, what every oracle delivers) is at least
``MIN_LOSS_PCT`` below the most deliverable without it. Each policy runs online on the day
twice: knowing only the cars present (as before), and with the forecast of the cars to come
built from the site's own history (the ``HISTORY_DAYS`` before the day, ElaadNL prior).

``--quiet-days`` checks the other side: on the days the limit takes nothing, does the forecast
keep the policies' purpose (peak shaving's highest import, valley filling's sum of squared
import, against the oracle's)?
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
import time
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from csms.charging import max_energy_kwh, online_schedule, schedule
from csms.evaluate.acn import SITE_TZ, acn_scenario
from csms.evaluate.history import HISTORY_DAYS, acn_forecast
from csms.evaluate.scenario import to_problem

DEFAULT_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "acn" / \
    "2019-09-01 2019-12-31.csv.gz"
MIN_LOSS_PCT = 1.0
POLICIES = ("peak_shaving", "valley_filling")


def _day(csv: str | Path, day: _dt.date, capacity_kw: float, chargers: int, max_kw: float,
         history_days: int):
    """(problem, E_max, E_max without the limit, expected sessions) of one local day."""
    sc = acn_scenario(csv, chargers=chargers, capacity_kw=capacity_kw, max_kw=max_kw,
                      start=_dt.datetime(day.year, day.month, day.day), days=1)
    problem = to_problem(sc)
    e_max = max_energy_kwh(problem)
    unlimited = replace(problem, capacity_kw=np.full(problem.n_periods, problem.max_kw.sum()))
    forecast = acn_forecast(csv, sc.start, history_days)
    future = forecast.future_demand(sc.start.astimezone(ZoneInfo(SITE_TZ)), sc.period_s,
                                    sc.periods, max_kw)
    return problem, e_max, max_energy_kwh(unlimited), future


def _congested(e_max: float, e_free: float) -> bool:
    return e_max < e_free * (1 - MIN_LOSS_PCT / 100.0)


def day_quality(csv: str | Path, day: _dt.date, capacity_kw: float, chargers: int = 50,
                max_kw: float = 6.6, policies: tuple[str, ...] = POLICIES,
                history_days: int = HISTORY_DAYS) -> dict | None:
    """Online energy per policy, without and with the forecast, or None if not congested."""
    problem, e_max, e_free, future = _day(csv, day, capacity_kw, chargers, max_kw,
                                          history_days)
    if not _congested(e_max, e_free):
        return None
    row = {"day": day.isoformat(), "sessions": problem.n_sessions, "e_max_kwh": e_max,
           "e_free_kwh": e_free, "expected_cars": float(future.cars.sum())}
    for policy in policies:
        for label, fut in (("present", None), ("forecast", future)):
            t0 = time.perf_counter()
            result = online_schedule(problem, policy, future=fut)
            row[f"{policy}_{label}_kwh"] = float(result.power_kw.sum() * problem.period_h)
            row[f"{policy}_{label}_peak_kw"] = float(problem.site_import_kw(
                result.power_kw).max())
            row[f"{policy}_{label}_s"] = time.perf_counter() - t0
    return row


def quiet_day_purpose(csv: str | Path, day: _dt.date, capacity_kw: float,
                      chargers: int = 50, max_kw: float = 6.6,
                      history_days: int = HISTORY_DAYS) -> dict | None:
    """On a day the limit takes nothing (None otherwise, or without cars): peak shaving's
    highest import and valley filling's sum of squared import (kW^2 h), oracle / online
    knowing the cars present / online with the forecast."""
    problem, e_max, e_free, future = _day(csv, day, capacity_kw, chargers, max_kw,
                                          history_days)
    if _congested(e_max, e_free) or problem.n_sessions == 0:
        return None
    row = {"day": day.isoformat(), "sessions": problem.n_sessions}
    measures = {"peak_shaving": lambda x: float(problem.site_import_kw(x).max()),
                "valley_filling": lambda x: float(
                    (problem.site_import_kw(x) ** 2).sum() * problem.period_h)}
    for policy, measure in measures.items():
        row[f"{policy}_oracle"] = measure(schedule(problem, policy).power_kw)
        row[f"{policy}_present"] = measure(online_schedule(problem, policy).power_kw)
        row[f"{policy}_forecast"] = measure(online_schedule(problem, policy,
                                                            future=future).power_kw)
    return row


def quiet_markdown(rows: list[dict]) -> str:
    head = ["day", "sessions", "peak shaving: peak kW oracle / present / forecast",
            "valley filling: sum of squares kW²h oracle / present / forecast"]
    lines = ["| " + " | ".join(head) + " |", "|---|---:|---:|---:|"]
    for r in rows:
        cells = [r["day"], str(r["sessions"]),
                 " / ".join(f"{r[f'peak_shaving_{m}']:.1f}"
                            for m in ("oracle", "present", "forecast")),
                 " / ".join(f"{r[f'valley_filling_{m}']:.0f}"
                            for m in ("oracle", "present", "forecast"))]
        lines.append("| " + " | ".join(cells) + " |")
    if rows:
        def mean(key: str) -> float:
            return sum(r[key] for r in rows) / len(rows)
        lines.append("| mean | | " + " / ".join(
            f"{mean(f'peak_shaving_{m}'):.1f}" for m in ("oracle", "present", "forecast"))
            + " | " + " / ".join(f"{mean(f'valley_filling_{m}'):.0f}"
                                 for m in ("oracle", "present", "forecast")) + " |")
    return "\n".join(lines)


def month_days(month: str) -> list[_dt.date]:
    year, mon = (int(x) for x in month.split("-"))
    first = _dt.date(year, mon, 1)
    nxt = _dt.date(year + mon // 12, mon % 12 + 1, 1)
    return [first + _dt.timedelta(days=d) for d in range((nxt - first).days)]


def markdown(rows: list[dict], policies: tuple[str, ...] = POLICIES) -> str:
    """One line per congested day: E_max and each policy's online share of it."""
    head = ["day", "sessions", "E_max kWh", "limit takes %"]
    for p in policies:
        head += [f"{p} present %", f"{p} forecast %"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for r in rows:
        cells = [r["day"], str(r["sessions"]), f"{r['e_max_kwh']:.1f}",
                 f"{100 * (1 - r['e_max_kwh'] / r['e_free_kwh']):.1f}"]
        for p in policies:
            cells += [f"{100 * r[f'{p}_{m}_kwh'] / r['e_max_kwh']:.1f}"
                      for m in ("present", "forecast")]
        lines.append("| " + " | ".join(cells) + " |")
    if rows:
        cells = ["all", str(sum(r["sessions"] for r in rows)),
                 f"{sum(r['e_max_kwh'] for r in rows):.1f}", ""]
        for p in policies:
            cells += [f"{100 * sum(r[f'{p}_{m}_kwh'] for r in rows) / sum(r['e_max_kwh'] for r in rows):.1f}"  # noqa: E501
                      for m in ("present", "forecast")]
            cells[-2:] = [f"min {min(100 * r[f'{p}_{m}_kwh'] / r['e_max_kwh'] for r in rows):.1f}"  # noqa: E501
                          f", all {c}" for m, c in zip(("present", "forecast"), cells[-2:],
                                                     strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", default=str(DEFAULT_CSV))
    ap.add_argument("--month", default="2019-10")
    ap.add_argument("--capacity-kw", type=float, default=30.0)
    ap.add_argument("--chargers", type=int, default=50)
    ap.add_argument("--quiet-days", action="store_true",
                    help="the days the limit takes nothing: the policies' purpose")
    args = ap.parse_args(argv)
    if args.quiet_days:
        quiet = [r for day in month_days(args.month)
                 if (r := quiet_day_purpose(args.csv, day, args.capacity_kw, args.chargers))]
        print(quiet_markdown(quiet))
        return 0
    rows = []
    for day in month_days(args.month):
        row = day_quality(args.csv, day, args.capacity_kw, args.chargers)
        if row is not None:
            rows.append(row)
            print(markdown([row]).splitlines()[-2], flush=True)
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
