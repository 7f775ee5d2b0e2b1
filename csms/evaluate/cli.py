"""`csms evaluate`: the operator's what-if on a scenario or on their own session history.

    csms evaluate SCENARIO.json [--policy NAME|all] [--oracle] [--json] [--plot FILE.png]
    csms evaluate --sessions FILE.csv[.gz] [--chargers 50 --capacity-kw 150 --max-kw 6.6
                  --start 2019-10-01 --days 31 --tariff onee-default] [--forecast KIND]
                  [same options]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date, datetime

from csms.charging import POLICIES

log = logging.getLogger(__name__)


def add_parser(subparsers) -> None:
    sub = subparsers.add_parser("evaluate", help="compare smart-charging policies on a scenario",
                                description=__doc__.splitlines()[0])
    sub.add_argument("scenario", nargs="?", help="scenario JSON (docs/scenario.md)")
    sub.add_argument("--sessions", help="ACN-Data CSV (.csv or .csv.gz) instead of a scenario")
    sub.add_argument("--policy", default="all", help=f"one of {', '.join(POLICIES)} or all")
    sub.add_argument("--oracle", action="store_true",
                     help="all sessions known in advance (default: online, re-plan each period)")
    sub.add_argument("--json", action="store_true", help="print JSON instead of a table")
    sub.add_argument("--plot", metavar="FILE.png", help="write a plot of site load per policy")
    site = sub.add_argument_group("site options (with --sessions)")
    site.add_argument("--chargers", type=int, default=50)
    site.add_argument("--capacity-kw", type=float, default=150.0)
    site.add_argument("--max-kw", type=float, default=6.6, help="per charger")
    site.add_argument("--start", help="first local day, YYYY-MM-DD (default: first arrival)")
    site.add_argument("--days", type=int, help="number of days (default: all)")
    site.add_argument("--tariff", default="onee-default", help="tariff name or JSON file")
    site.add_argument("--period-s", type=int, default=900)
    site.add_argument("--forecast", metavar="KIND", choices=("workplace", "public", "private"),
                      help="online: forecast the cars to come from the file's 28 days before "
                           "--start, with this ElaadNL class as prior")
    sub.set_defaults(handler="csms.evaluate.cli:run")


def _tariff(value: str):
    if value.endswith(".json"):
        with open(value) as fh:
            return json.load(fh)
    return value


def run(args: argparse.Namespace) -> int:
    from csms.evaluate.acn import acn_scenario
    from csms.evaluate.run import evaluate
    from csms.evaluate.scenario import load_scenario
    from csms.evaluate.table import markdown_table, plot_site_load

    if bool(args.scenario) == bool(args.sessions):
        print("csms evaluate: give either SCENARIO.json or --sessions FILE.csv", file=sys.stderr)
        return 2
    if args.forecast and (args.oracle or not args.sessions or not args.start):
        print("csms evaluate: --forecast needs --sessions and --start, online (not --oracle)",
              file=sys.stderr)
        return 2
    policies = list(POLICIES) if args.policy == "all" else [args.policy]
    if args.policy != "all" and args.policy not in POLICIES:
        print(f"csms evaluate: unknown policy {args.policy!r}; choose from "
              f"{', '.join(POLICIES)} or all", file=sys.stderr)
        return 2
    try:
        if args.sessions:
            start = None
            if args.start:
                d = date.fromisoformat(args.start)
                start = datetime(d.year, d.month, d.day)
            scenario = acn_scenario(args.sessions, chargers=args.chargers,
                                    capacity_kw=args.capacity_kw, max_kw=args.max_kw,
                                    start=start, days=args.days, tariff=_tariff(args.tariff),
                                    period_s=args.period_s)
        else:
            scenario = load_scenario(args.scenario)
    except (OSError, ValueError, KeyError) as exc:
        print(f"csms evaluate: cannot read input: {exc}", file=sys.stderr)
        return 2
    future = None
    if args.forecast:
        from zoneinfo import ZoneInfo

        from csms.charging.forecast import fit_forecast
        from csms.charging.prior import elaad_prior
        from csms.evaluate.acn import SITE_TZ
        from csms.evaluate.history import acn_history

        forecast = fit_forecast(acn_history(args.sessions, scenario.start),
                                elaad_prior(args.forecast))
        future = forecast.future_demand(scenario.start.astimezone(ZoneInfo(SITE_TZ)),
                                        scenario.period_s, scenario.periods, args.max_kw)
    report = evaluate(scenario, policies, oracle=args.oracle, with_sessions=args.json,
                      future=future)
    if args.plot:
        plot_site_load(report, args.plot)
    public = {k: v for k, v in report.items() if not k.startswith("_")}
    if args.json:
        print(json.dumps(public, indent=1))
    else:
        expected = (f", {report['forecast_cars']:.1f} cars forecast"
                    if "forecast_cars" in report else "")
        print(f"# {report['scenario']}: {len(scenario.sessions)} sessions, "
              f"{scenario.periods} x {scenario.period_s} s, mode {report['mode']}{expected}\n")
        print(markdown_table(public["results"]))
    return 0
