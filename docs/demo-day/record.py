"""Record a demo day: one simulated site under each smart-charging policy and without control.

    .venv/bin/python docs/demo-day/record.py

For each run: a fresh SQLite store, an in-process CSMS (gateway, store writer, control loop,
REST API) and a site of simulated OCPP chargers (1.6 and 2.0.1 mixed) on one sped-up clock. The
arrivals come from the simulators' seeded office profile, so every run sees the same drivers.
The baseline runs the same CSMS without its control loop (no profile is ever sent: every car
draws what its charger and its battery allow). After the window the clock is frozen and the
script reads ``GET /api/v1/sites/{id}/load`` and ``/kpis`` and writes, in this directory, one
PNG per run and README.md (report.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT), str(HERE)]

import httpx  # noqa: E402
import ocpp.messages  # noqa: E402

import simulators.site as sim_site  # noqa: E402
from csms import clock  # noqa: E402
from csms.charging import POLICIES  # noqa: E402
from csms.services import Services  # noqa: E402
from csms.settings import Settings  # noqa: E402
from csms.sites import service as sites  # noqa: E402
from csms.store.migrate import upgrade  # noqa: E402
from csms.store.tables import SiteLoadRow  # noqa: E402
from csms.store.tokens import create_token  # noqa: E402
from csms.web.app import create_app  # noqa: E402
from simulators.clock import SimClock  # noqa: E402
from simulators.recording import Recorder  # noqa: E402
from simulators.site import Site  # noqa: E402

log = logging.getLogger("demo-day")

SITE_TZ = ZoneInfo("Africa/Casablanca")
BASELINE = "no_control"
ROTATIONS = {True: ("L1L2L3", "L2L3L1", "L3L1L2"), False: ("L1", "L2", "L3")}
CONTROLLED = [p for p in POLICIES if p != "uncontrolled"]
METER_EVERY_S = 10.0
# Simulated s between the chargers' physics steps (simulators' default 15 s): halves their CPU
# at high speed; a new limit still applies at once (the charger re-evaluates on arrival).
TICK_S = 30.0  # simulated s between samples of the simulators' physical draw


@dataclass
class DemoConfig:
    day: str
    from_h: float
    to_h: float
    speed: float
    chargers: int
    profile: str
    hardware: str  # "ac11=0.5,ac22=0.5", or "profile": the simulators' mix for the profile
    seed: int
    sessions_scale: float
    capacity_kw: float
    base_load_peak_kw: float
    pv_kwp: float
    control_period_s: int
    default_dwell_s: float
    default_energy_kwh: float
    lease_s: float
    expected_arrivals_per_day: float | None = None  # the operator's (None: a fresh site)

    @property
    def start(self) -> datetime:
        d = datetime.fromisoformat(self.day).date()
        return datetime.combine(d, dtime(0), SITE_TZ) + timedelta(hours=self.from_h)

    @property
    def duration_s(self) -> float:
        return (self.to_h - self.from_h) * 3600.0


@dataclass
class RunResult:
    """What one run measured: the API's answers plus the run's own bookkeeping."""

    policy: str
    load: dict
    kpis: dict
    wall_s: float
    sessions_started: int
    turned_away: int
    loop_runs: int
    warnings: dict = field(default_factory=dict)  # CSMS warning template -> count
    run_gaps_s: list[float] = field(default_factory=list)  # simulated s between loop runs
    physical_ev_kw: list[tuple[str, float]] = field(default_factory=list)  # (ISO time, kW)
    simulators_kwh: float = 0.0  # the chargers' own energy registers, over the run
    # Sessions that ended in the window, from the simulators' ledgers:
    # (charger, EVSE, id tag, started ISO, stopped ISO, energy Wh)
    sessions: list = field(default_factory=list)
    # ``csms evaluate --oracle`` on this run's arrivals (csms-sim --record's scenario): the
    # energy the policy could have delivered knowing every car in advance, and the arrivals.
    oracle_kwh: float | None = None
    oracle_sessions: int = 0


def _site_fields(cfg: DemoConfig, policy: str) -> dict:
    return {"name": "demo", "capacity_kw": cfg.capacity_kw,
            "policy": "load_balancing" if policy == BASELINE else policy,
            "control_period_s": cfg.control_period_s, "base_load_profile": "office",
            "base_load_peak_kw": cfg.base_load_peak_kw, "pv_kwp": cfg.pv_kwp,
            "policy_params": {"default_dwell_s": cfg.default_dwell_s,
                              "default_energy_kwh": cfg.default_energy_kwh,
                              "lease_s": cfg.lease_s}
            | ({} if cfg.expected_arrivals_per_day is None
               else {"expected_arrivals_per_day": cfg.expected_arrivals_per_day})}


class WarningCounter(logging.Handler):
    """Counts the CSMS's WARNING records per message template (for the README)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("csms"):
            key = f"{record.name}: {record.msg}"
            self.counts[key] = self.counts.get(key, 0) + 1


async def _meter(site: Site, sim: SimClock, out: list) -> None:
    while True:
        kw = sum(max(0.0, e.power_w) for c in site.chargers for e in c.evses) / 1000.0
        out.append((sim.now().isoformat(), kw))
        await sim.sleep(METER_EVERY_S)


async def run_one(cfg: DemoConfig, policy: str, workdir: Path) -> RunResult:
    """One policy (or the baseline) over the window, on a fresh store."""
    url = f"sqlite:///{workdir / f'{policy}.db'}"
    upgrade(url)
    ocpp.messages.ASYNC_VALIDATION = False
    clock.configure(speed=cfg.speed, start=cfg.start)
    sim = SimClock(cfg.speed, clock.now())
    settings = Settings(database_url=url, ocpp_port=0, http_port=0, open=True,
                        call_timeout_s=10.0, ping_interval_s=None)
    svc = Services.build(settings)
    await svc.start()
    if cfg.hardware != "profile":
        # The simulators' hardware shares per profile are a module table; this process only.
        shares = [(k, float(v)) for k, v in (p.split("=") for p in cfg.hardware.split(","))]
        sim_site.SITE_HARDWARE = {**sim_site.SITE_HARDWARE, cfg.profile: shares}
    site = Site(f"ws://127.0.0.1:{svc.gateway.port}/ocpp", cfg.chargers, cfg.profile, "mixed",
                sim, seed=cfg.seed, sessions_scale=cfg.sessions_scale, recorder=Recorder())
    for c in site.chargers:
        c.tick_s = TICK_S
    counter = WarningCounter()
    logging.getLogger().addHandler(counter)
    now = clock.now()
    row = await svc.worker.run(sites.create_site, _site_fields(cfg, policy), now)
    site_id = row.id
    for i, c in enumerate(site.chargers):
        # Installers rotate the phases from one charger to the next so one-phase cars do not
        # all load L1 (the loop keeps each phase under its third of the limit).
        await svc.worker.run(sites.assign_charger, site_id, c.id, now,
                             ROTATIONS[c.type.phases == 3][i % 3], c.type.max_power_w,
                             c.type.kind)
    token = await svc.worker.run(create_token, "demo-day", "viewer")
    if policy != BASELINE:
        svc.start_control()
    meter: list = []
    registers_kwh = site.summary()["energy_kwh"]
    t0_wall = time.monotonic()
    tasks = [asyncio.ensure_future(site.run(cfg.duration_s - sim_elapsed(sim, cfg))),
             asyncio.ensure_future(_meter(site, sim, meter))]
    try:
        await tasks[0]
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    wall_s = time.monotonic() - t0_wall
    end = cfg.start + timedelta(seconds=cfg.duration_s)
    loop_runs = svc.control.runs if svc.control is not None else 0
    if svc.control is not None:
        await svc.control.stop()
        svc.control = None
    # Freeze "now" at the end of the window so /kpis covers exactly the recorded day part.
    clock.configure(speed=1e-6, start=end)
    try:
        load, kpis = await _read_api(svc, site_id, token, cfg.start, end)
        stamps = await svc.worker.run(_run_stamps, site_id)
    finally:
        await svc.stop()
        clock.configure()
        logging.getLogger().removeHandler(counter)
    gaps = [(b - a).total_seconds() for a, b in zip(stamps, stamps[1:], strict=False)]
    ended = [(e.charger_id, e.evse_id, e.id_tag, e.started_at.isoformat(),
              e.stopped_at.isoformat(), e.energy_wh)
             for c in site.chargers for e in c.ledger if e.energy_wh is not None]
    oracle_kwh, oracle_n = oracle_energy(cfg, site.recorder, end,
                                         "load_balancing" if policy == BASELINE else policy)
    return RunResult(policy, load, kpis, wall_s, site.sessions_started, site.turned_away,
                     loop_runs, counter.counts, gaps, meter,
                     site.summary()["energy_kwh"] - registers_kwh, ended, oracle_kwh, oracle_n)


def oracle_energy(cfg: DemoConfig, recorder: Recorder, end: datetime, policy: str
                  ) -> tuple[float, int]:
    """``csms evaluate --oracle`` for ``policy`` on the window's arrivals, with the site's
    base load and PV from the CSMS's own models and its per-phase limit (each car on the grid
    phases its charger's wiring puts it on), at 60-s periods: (kWh, sessions)."""
    from csms.evaluate.run import evaluate
    from csms.evaluate.scenario import scenario_from_dict
    from csms.grid.baseload import base_load_kw
    from csms.grid.solar import pv_kw_periods
    from csms.sites.phases import phase_limit_kw

    limit_kw = phase_limit_kw(cfg.capacity_kw, _site_fields(cfg, policy)["policy_params"])
    data = recorder.scenario(cfg.start, end, cfg.capacity_kw, 60, "demo-day", limit_kw)
    periods = data["periods"]
    data["site"]["base_load_kw"] = [float(v) for v in base_load_kw(
        "office", cfg.base_load_peak_kw, cfg.start, 60, periods)]
    data["site"]["pv_kw"] = [float(v) for v in pv_kw_periods(
        cfg.pv_kwp, cfg.start, 60, periods, latitude=33.57, longitude=-7.59)]
    out = evaluate(scenario_from_dict(data), [policy], oracle=True, with_sessions=False)
    return out["results"][policy]["energy_delivered_kwh"], len(data["sessions"])


def sim_elapsed(sim: SimClock, cfg: DemoConfig) -> float:
    return (sim.now() - cfg.start).total_seconds()


def _run_stamps(session, site_id: int) -> list[datetime]:
    from sqlmodel import select

    return list(session.exec(select(SiteLoadRow.timestamp).where(
        SiteLoadRow.site_id == site_id).order_by(SiteLoadRow.timestamp)).all())


async def _read_api(svc: Services, site_id: int, token: str, start: datetime, end: datetime
                    ) -> tuple[dict, dict]:
    app = create_app(svc)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://csms", headers=headers) as http:
        r = await http.get(f"/api/v1/sites/{site_id}/load",
                           params={"from": start.isoformat(), "to": end.isoformat(),
                                   "step_s": 60})
        r.raise_for_status()
        k = await http.get(f"/api/v1/sites/{site_id}/kpis")
        k.raise_for_status()
    return r.json(), k.json()


def _machine() -> str:
    from csms.machine import describe

    return describe()


def _git(*args: str) -> str:
    import subprocess

    return subprocess.run(["git", "--no-optional-locks", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False).stdout.strip()


def _git_state() -> str:
    """The commit recorded, and whether csms/ or simulators/ had uncommitted changes."""
    dirty = _git("status", "--porcelain", "--", "csms", "simulators")
    return _git("rev-parse", "--short", "HEAD") + (" (with uncommitted changes in csms/ or "
                                                   "simulators/)" if dirty else "")


def _code_fingerprint() -> tuple[str, str]:
    """HEAD and the working tree's diff of the code the runs import (read-only git)."""
    import hashlib

    diff = _git("diff", "HEAD", "--", "csms", "simulators", "alembic")
    return _git("rev-parse", "HEAD"), hashlib.sha1(diff.encode()).hexdigest()


def _git_label(start: str, start_fp: tuple[str, str]) -> str:
    """The code the runs imported is the tree at the start (modules load once per process);
    if the tree changed before the end, say so instead of naming the end's commit."""
    if _code_fingerprint() == start_fp:
        return start
    return (f"{start} at the start (the code that ran); the tree changed during the "
            f"recording, {_git_state()} at its end")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--day", default="2026-06-16", help="local date (a Tuesday by default)")
    p.add_argument("--from-h", type=float, default=7.0, help="local start hour")
    p.add_argument("--to-h", type=float, default=13.0, help="local end hour")
    p.add_argument("--speed", type=float, default=120.0, help="simulated s per wall s (at 240x the "
                   "loop lags: see notes.md)")
    p.add_argument("--chargers", type=int, default=24)
    p.add_argument("--profile", default="office")
    p.add_argument("--hardware", default="ac11=0.5,ac22=0.5",
                   help="charger type shares, or 'profile' for the simulators' own mix "
                   "(office: 10 %% dc50; see README, 'Sites with DC chargers')")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sessions-scale", type=float, default=2.0)
    p.add_argument("--capacity-kw", type=float, default=60.0)
    p.add_argument("--base-load-peak-kw", type=float, default=15.0)
    p.add_argument("--pv-kwp", type=float, default=30.0)
    p.add_argument("--control-period-s", type=int, default=60)
    p.add_argument("--default-dwell-s", type=float, default=4 * 3600.0)
    p.add_argument("--default-energy-kwh", type=float, default=20.0)
    p.add_argument("--lease-s", type=float, default=600.0,
                   help="TxProfile lease (CSMS default: 5 control periods)")
    p.add_argument("--expected-arrivals-per-day", type=float, default=None,
                   help="cars a day the operator expects (policy_params; unset: a fresh site "
                   "with no history expects nothing)")
    p.add_argument("--policies", default=",".join([BASELINE, *CONTROLLED]))
    p.add_argument("--out", default=str(HERE))
    p.add_argument("--no-report", action="store_true", help="only save the raw results")
    p.add_argument("--report-only", action="store_true",
                   help="rewrite the PNGs and README from OUT/results.json, no recording")
    return p


async def amain(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = Path(args.out)
    if args.report_only:
        import report

        report.write(out, json.loads((out / "results.json").read_text()))
        return 0
    cfg = DemoConfig(args.day, args.from_h, args.to_h, args.speed, args.chargers, args.profile,
                     args.hardware, args.seed, args.sessions_scale, args.capacity_kw, args.base_load_peak_kw,
                     args.pv_kwp, args.control_period_s, args.default_dwell_s,
                     args.default_energy_kwh, args.lease_s, args.expected_arrivals_per_day)
    policies = args.policies.split(",")
    if BASELINE not in policies:
        policies.insert(0, BASELINE)
    out.mkdir(parents=True, exist_ok=True)
    git_start, fp_start = _git_state(), _code_fingerprint()
    results = []
    with tempfile.TemporaryDirectory(prefix="demo-day-") as tmp:
        for policy in policies:
            r = await run_one(cfg, policy, Path(tmp))
            log.warning("%s: %.0f s wall, %d sessions, %d loop runs", policy, r.wall_s,
                        r.sessions_started, r.loop_runs)
            results.append(r)
    raw = {"config": cfg.__dict__, "argv": sys.argv[1:], "git": _git_label(git_start, fp_start),
           "recorded_at": datetime.now(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": _machine(),
           "results": [r.__dict__ for r in results]}
    (out / "results.json").write_text(json.dumps(raw, default=str))
    if not args.no_report:
        import report

        report.write(out, raw)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s")
    sys.exit(asyncio.run(amain()))
