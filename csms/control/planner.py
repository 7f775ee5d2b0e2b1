"""Pure: a site snapshot -> the power each session may draw now, and why.

One step of ``csms.charging.online``: the sessions present now, with their declared departure
and remaining energy, are planned over periods of ``plan_period_s`` (default: the control period,
at least 300 s) until the last departure (at most 24 h); only the first period is applied, the
loop re-plans every control period. The capacity left to the EVs is the site limit minus the
base load, plus PV, minus a reserve for what the loop does not steer: chargers that were caught
ignoring their limit (their measured draw), and EVSEs without a session (a car plugging in
draws up to its fail-safe default until its own limit lands, within the arrival batching delay
and one solve). The idle EVSEs only get what the cars present cannot use: on a busy site (more
EVSEs than capacity) their reserve would otherwise starve the cars that are charging.

Per-phase limits (``csms.sites.phases``): each site phase may carry ``capacity_kw / 3`` (or
``policy_params.phase_limit_kw``) minus a third of the base load (plus a third of PV) minus its
share of the reserve. Each session loads the phases its charger's wiring puts it on (1/k of its
power on each of its k phases); these are the problem's constraint rows ``phase_L1`` ...
(3 x N, limits 3 x T), kept only when they can bind (a balanced site's site row implies them),
and the 6 A step respects them too.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np

from csms import clock
from csms.charging import DemandForecast, FutureDemand, Problem
from csms.charging.policies import FREQUENCY_POLICIES, controlled_power, uncontrolled_power
from csms.charging.why import binding
from csms.control.allocate import (
    NOISE_W,
    apply_minimums,
    apply_minimums_rows,
    lift_to_floor,
    planned_w,
    top_up,
)
from csms.domain.electrical import MIN_DC_POWER_W, limit_power_w, min_ac_power_w, to_limit
from csms.domain.model import Policy
from csms.sites.models import base_and_pv_kw, tariff_from_column
from csms.sites.phases import (
    PHASE_NAMES,
    phase_limit_kw,
    phase_limits_kw,
    phase_weights,
    redundant_rows,
)
from csms.sites.snapshot import ChargerInfo, EvseSession, SiteSnapshot

log = logging.getLogger(__name__)

MAX_HORIZON_S = 24 * 3600.0
MAX_PLAN_PERIODS = 96
# Charging states in which the EV would take power (1.6 ChargePointStatus, 2.0.1
# ChargingStateEnumType): SuspendedEVSE is an EV waiting for the EVSE to offer some.
WANTS_MORE = ("Charging", "SuspendedEVSE")


@dataclass(frozen=True, kw_only=True)
class Plan:
    """Per steered session (N,): ``power_w`` to apply now (negative: V2G discharge, only for
    sessions in ``snap.extra["v2g"]``), ``why`` its binding constraint."""

    sessions: tuple[EvseSession, ...]
    power_w: np.ndarray
    why: tuple[str, ...]
    ev_budget_w: float
    reserve_w: float
    base_kw: float
    pv_kw: float
    limit_kw: float
    phase_reserve_w: np.ndarray = field(default_factory=lambda: np.zeros(3))  # (3,)


def min_power_w(s: EvseSession) -> float:
    return min_ac_power_w(s.phases) if s.ac else 0.0


def floor_power_w(s: EvseSession) -> float:
    """The least a car that needs energy is given whenever the site has room for it."""
    return min_power_w(s) if s.ac else MIN_DC_POWER_W


def applied_power_w(power_w: float, s: EvseSession, unit: str) -> float:
    """What the rounded-down limit for ``power_w`` lets the EV draw."""
    phases = s.phases if s.ac else 0
    return limit_power_w(to_limit(power_w, unit, phases), unit, phases)


def session_weights(s: EvseSession) -> np.ndarray:
    """(3,) share of the session's power on each site phase."""
    return phase_weights(s.wiring, s.phases, s.ac)


def charger_weights(c: ChargerInfo) -> np.ndarray:
    """(3,) worst case per site phase of what one idle EVSE may draw, as a share of its
    power: a car on all wired phases (a one-phase car on a three-phase charger loads one
    phase with a third, no more)."""
    return phase_weights(c.wiring, None, c.ac)


def failsafe_power_w(snap: SiteSnapshot) -> float:
    """Per-EVSE share of the site limit (worst-case base load, no PV), before rounding; also
    of each phase's limit, over the EVSEs wired to it (one-phase chargers all on L1 share
    one phase: a third of a balanced site's fail-safe each)."""
    evses = max(1, snap.total_evses)
    share_w = max(0.0, (snap.capacity_kw - snap.base_load_peak_kw) * 1000.0 / evses)
    per_phase = sum((c.evses * charger_weights(c) for c in snap.chargers), np.zeros(3))
    room_kw = phase_limit_kw(snap.capacity_kw, snap.policy_params) - snap.base_load_peak_kw / 3
    for load in per_phase[per_phase > 0]:
        phase_share_w = max(0.0, room_kw * 1000.0 / load)
        if phase_share_w < share_w - 1e-6:  # not a rounding ulp on a balanced site
            share_w = phase_share_w
    return share_w


def site_series(snap: SiteSnapshot, period_s: float, periods: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(base kW, PV kW, price MAD/kWh, peak mask), each (T,), from the site's models."""
    start = snap.now
    base, pv = base_and_pv_kw(snap, start, int(period_s), periods)
    tariff = tariff_from_column(snap.tariff)
    price = np.asarray(tariff.prices_mad_per_kwh(start, int(period_s), periods), float)
    peak = np.asarray(tariff.peak_mask(start, int(period_s), periods), bool)
    return np.array(base), np.array(pv), price, peak


def plan_period_s(snap: SiteSnapshot, horizon_s: float) -> float:
    """The control period, coarsened (in whole control periods) to keep at most
    ``MAX_PLAN_PERIODS`` periods over the horizon: the LP stays small for day-long stays."""
    if "plan_period_s" in snap.policy_params:
        return float(snap.policy_params["plan_period_s"])
    base = float(snap.control_period_s)
    horizon_s = min(max(horizon_s, base), MAX_HORIZON_S)
    return base * max(1, math.ceil(horizon_s / base / MAX_PLAN_PERIODS))


GUARD_PERIODS = 3  # the limits sent now stay until the next run: up to ~2 control periods


def worst_until_next_run(snap: SiteSnapshot, base0_kw: float, pv0_kw: float
                         ) -> tuple[float, float]:
    """Base load and PV for the limits sent now: the most base and the least PV over the next
    few control periods, not the plan period's midpoint. The limits stay in force until the
    next run (a period later, more when runs lag); on a morning ramp the base load at the
    midpoint of the first (up to 5-min) plan period can be below what it reaches by then
    (the recorded demo day measured a 60-s step 16 W over the limit that way)."""
    base, pv, _, _ = site_series(snap, float(snap.control_period_s), GUARD_PERIODS)
    return max(base0_kw, float(base.max())), min(pv0_kw, float(pv.min()))


FailsafeW = float | dict[str, float]
# Idle EVSEs whose fail-safe stays reserved on a saturated site: the next arrival. Arrivals
# are batched (one run plans every car that plugged in within the trigger delay), so a second
# car in the same window overshoots by one fail-safe (the limit over the EVSEs) for a batching
# delay and a solve, a small part of a meter interval; keeping two held that much of a busy
# site unused all the time (1.5 kW of 150 on the field test's site).
ARRIVALS_RESERVED = 1


def failsafe_of(failsafe_applied_w: FailsafeW, charger_id: str) -> float:
    """The fail-safe draw an idle EVSE of ``charger_id`` may take: per charger (a DC charger's
    fail-safe can be 1 kW where an AC one rounds down to 0 A), or one value for all."""
    if isinstance(failsafe_applied_w, dict):
        return failsafe_applied_w.get(charger_id, 0.0)
    return failsafe_applied_w


def reserve_w(snap: SiteSnapshot, failsafe_applied_w: FailsafeW) -> float:
    return float(phase_reserve_w(snap, failsafe_applied_w).sum())


def phase_reserve_w(snap: SiteSnapshot, failsafe_applied_w: FailsafeW,
                    base_kw: float | None = None, pv_kw: float = 0.0) -> np.ndarray:
    """(3,) W per site phase kept for what the loop does not steer: chargers ignoring their
    limit at their measured draw (or rating), offline chargers' sessions at the limit their
    lease still holds, and idle EVSEs at their own charger's fail-safe.

    With ``base_kw`` (the base load until the next run) the idle EVSEs only get the room the
    steered cars leave at their maximum, on each phase and on the site: never a car's power."""
    rogue = np.zeros(3)
    for s in snap.sessions:
        if not s.obeying:
            rogue += max(s.measured_w or 0.0, s.max_w) * session_weights(s)
    info = {c.id: c for c in snap.chargers}
    for charger_id, _, held_w in snap.held:  # offline, under a lease of ours: kept for it
        rogue += held_w * (charger_weights(info[charger_id]) if charger_id in info
                           else np.full(3, 1.0 / 3.0))
    each = [failsafe_of(failsafe_applied_w, charger_id) * (
        charger_weights(info[charger_id]) if charger_id in info else np.full(3, 1.0 / 3.0))
        for charger_id, _ in snap.idle_evses]
    idle = sum(each, np.zeros(3))
    if base_kw is None or not idle.any():
        return rogue + idle
    # Always kept, however busy the site: the next arrival (it draws its fail-safe until its
    # own limit lands, one batching delay and a solve later).
    arriving = sum(sorted(each, key=lambda w: -w.sum())[:ARRIVALS_RESERVED], np.zeros(3))
    wanting = [s for s in snap.sessions if s.obeying and s.requested_wh > s.energy_wh]
    demand = sum((s.max_w * session_weights(s) for s in wanting), np.zeros(3))
    phase_room = (phase_limit_kw(snap.capacity_kw, snap.policy_params) - base_kw / 3.0
                  + pv_kw / 3.0) * 1000.0 - rogue - demand
    idle = np.minimum(idle, np.maximum(phase_room, 0.0))
    site_room = max(0.0, (snap.capacity_kw - base_kw + pv_kw) * 1000.0 - rogue.sum()
                    - demand.sum())
    if idle.sum() > site_room:
        idle *= site_room / idle.sum()
    return rogue + np.maximum(idle, arriving)


def phase_constraints(snap: SiteSnapshot, steered: tuple[EvseSession, ...], base: np.ndarray,
                      pv: np.ndarray, reserve_w: np.ndarray, ev_capacity_kw: np.ndarray | None
                      ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """The phase rows that can bind: matrix (M, N), limits (M, T) kW, names (M,), M <= 3.
    ``reserve_w`` (3,): per phase; ``ev_capacity_kw`` (T,): the site row's EV capacity, None
    when a session may discharge."""
    matrix = np.array([session_weights(s) for s in steered]).T.reshape(3, len(steered))
    limits = phase_limits_kw(phase_limit_kw(snap.capacity_kw, snap.policy_params), base, pv,
                             reserve_w / 1000.0)
    keep = ~redundant_rows(matrix, limits, np.array([s.max_w for s in steered]) / 1000.0,
                           ev_capacity_kw)
    return matrix[keep], limits[keep], tuple(n for n, k in zip(PHASE_NAMES, keep, strict=True)
                                             if k)


def grid_left_s(departure: datetime, now: datetime, period_s: float) -> float:
    """Seconds from now to the departure rounded down to a clock-aligned grid of ``period_s``.

    The plan's periods start now, so a departure's last whole period depends on where "now"
    falls: two cars leaving a minute apart would trade places in the plan every few runs.
    Rounded to a fixed grid, every car's last period moves at the same instant (when now
    crosses a grid line) and the order between them holds; a car is planned to be done up to
    one period before it leaves."""
    step = float(period_s)
    aligned = math.floor(departure.timestamp() / step) * step
    return aligned - now.timestamp()


def priority(steered: tuple[EvseSession, ...], grid_s: float) -> np.ndarray:
    """(N,) in [0, 1]: earliest departure first, then first arrived. A total order that
    does not change between runs, so ties go to the same cars every minute: a car switched
    off and another on for nothing costs the ramp and a meter interval of guessing.

    Departures count on a clock-aligned grid of ``grid_s`` (the control period) and arrivals
    in the order the CSMS received them (session ids): a charger's timestamps reach our clock
    through its offset estimate, which moves by a second or more while it settles (and with
    every network hiccup), so cars plugged in together - and a 1.6 car's default departure,
    counted from its start - traded places at every re-estimate and the site rotated its
    power among them, losing the ramp each time."""
    step = float(grid_s)
    order = sorted(range(len(steered)), key=lambda i: (
        math.floor(steered[i].departure.timestamp() / step), steered[i].session_id))
    out = np.zeros(len(steered))
    out[order] = np.arange(len(steered)) / max(1, len(steered) - 1)
    return out


def _future(snap: SiteSnapshot, forecast: DemandForecast | None, period_s: float,
            periods: int) -> FutureDemand | None:
    """The expected cars over the plan's horizon, each at most the site's median EVSE rating."""
    if forecast is None or not snap.chargers:
        return None
    max_kw = float(np.median([c.evse_max_w for c in snap.chargers])) / 1000.0
    return forecast.future_demand(snap.now.astimezone(clock.SITE_TZ), period_s, periods, max_kw)


def now_first_import_kw(policy: str, peak_floor_kw: float, price: np.ndarray,
                        peak: np.ndarray) -> float | None:
    """How far an online plan fills the site now before it plans the horizon
    (``Problem.now_first``), as the site import it may reach now; None: not at all.

    Load balancing: as far as the site takes. Each other policy only as far as its own
    objective says the room is free, since its later periods are the same guess (departures
    guessed, no later arrivals) and, where phase rows bind, its horizon optimum leaves power
    unused now that the cars it counts on for later never take (docs/demo-day): peak shaving
    up to the day's peak so far (below it, a lower import now lowers no peak), valley filling
    to the same level (below it, now is a valley of the day's load, which the horizon plan
    does not see), price optimization and grid support while now is the horizon's cheapest
    price (outside the peak band for grid support). Renewable integration never: grid energy
    now is what it avoids.
    """
    if policy == Policy.LOAD_BALANCING:
        return np.inf
    if policy in (Policy.PEAK_SHAVING, Policy.VALLEY_FILLING):
        return float(peak_floor_kw) if np.isfinite(peak_floor_kw) else None
    cheapest = bool(price.size) and price[0] <= float(price.min()) + 1e-9
    if policy == Policy.PRICE_OPTIMIZATION and cheapest:
        return np.inf
    if policy == Policy.GRID_SUPPORT and cheapest and not peak[0]:
        return np.inf
    return None


def v2g_now_kw_of(row_kw: np.ndarray, peak: np.ndarray, price: np.ndarray) -> float:
    """What a V2G session does now: its plan's first period, unless the plan charges and
    discharges within the leading run of periods of equal price and peak state. The LP does not
    price battery cycles, so such a plan is one of many equally good ones, e.g. charge now and
    give it back later in the same band; the run's mean keeps its net energy without the cycle
    (and within the bounds). ``row_kw``, ``peak``, ``price``: (T,)."""
    same = (peak == peak[0]) & np.isclose(price, price[0])
    end = int(np.argmin(same)) if not same.all() else len(row_kw)
    run = row_kw[:max(1, end)]
    if run.min() < -NOISE_W / 1000.0 and run.max() > NOISE_W / 1000.0:
        return float(run.mean())
    return float(row_kw[0])


def plan(snap: SiteSnapshot, failsafe_applied_w: FailsafeW = 0.0, peak_floor_kw: float = -np.inf,
         forecast: DemandForecast | None = None) -> Plan:
    """Run the site's policy for the sessions present now (``forecast``: the cars the site
    expects, from its history; room is left for them)."""
    steered = tuple(s for s in snap.sessions if s.obeying)
    horizon_s = max([0.0] + [(s.departure - snap.now).total_seconds() for s in steered])
    period_s = plan_period_s(snap, horizon_s)
    periods = max(1, math.ceil(min(horizon_s, MAX_HORIZON_S) / period_s))
    base, pv, price, peak = site_series(snap, period_s, periods)
    base[0], pv[0] = worst_until_next_run(snap, base[0], pv[0])
    phase_reserve = phase_reserve_w(snap, failsafe_applied_w, float(base[0]), float(pv[0]))
    reserve = float(phase_reserve.sum())
    limit_kw = snap.capacity_kw
    budget_w = max(0.0, (limit_kw - base[0] + pv[0]) * 1000.0 - reserve)
    n = len(steered)
    if n == 0:
        return Plan(sessions=(), power_w=np.zeros(0), why=(), ev_budget_w=budget_w,
                    reserve_w=reserve, base_kw=base[0], pv_kw=pv[0], limit_kw=limit_kw,
                    phase_reserve_w=phase_reserve)
    left_s = np.array([grid_left_s(s.departure, snap.now, period_s) for s in steered])
    rank = priority(steered, snap.control_period_s)
    starts = np.arange(periods) * period_s
    available = starts[None, :] + period_s <= left_s[:, None]
    available[:, 0] = True  # present now, whatever was declared
    remaining_kwh = np.array([max(0.0, s.requested_wh - s.energy_wh) / 1000.0 for s in steered])
    # V2G (OCPP 2.1 EVs that said so, see csms.control.v2g): may discharge, down to a floor.
    v2g = snap.extra.get("v2g", {})
    v2x = [v2g.get((s.charger_id, s.evse_id)) for s in steered]
    discharge_kw = np.array([min(x.max_discharge_w, s.max_w) / 1000.0 if x else 0.0
                             for s, x in zip(steered, v2x, strict=True)])
    floor_kwh = np.array([x.floor_wh / 1000.0 if x else 0.0 for x in v2x])
    problem = Problem(
        period_s=period_s, available=available, energy_kwh=remaining_kwh,
        max_kw=np.array([s.max_w for s in steered]) / 1000.0,
        min_kw=np.array([min_power_w(s) for s in steered]) / 1000.0,
        phases=np.array([max(1, s.phases) for s in steered]),
        discharge_max_kw=discharge_kw, energy_floor_kwh=floor_kwh,
        capacity_kw=np.full(periods, limit_kw - reserve / 1000.0),
        base_load_kw=base, pv_kw=pv, price_mad_per_kwh=price, peak_mask=peak,
        session_ids=tuple(str(s.session_id) for s in steered), priority=rank)
    now_kw = now_first_import_kw(snap.policy, peak_floor_kw, price, peak)
    if now_kw is not None:
        problem = replace(problem, now_first=True, now_first_import_kw=now_kw)
    rows, rows_kw, names = phase_constraints(
        snap, steered, base, pv, phase_reserve,
        None if discharge_kw.any() else problem.ev_capacity_kw)
    if names and snap.policy != Policy.UNCONTROLLED:  # the no-CSMS baseline knows no limit
        problem = replace(problem, constraint_matrix=rows, constraint_limits_kw=rows_kw,
                          constraint_names=names)
    if snap.policy == Policy.UNCONTROLLED:
        power_kw = uncontrolled_power(problem)
    else:
        problem = replace(problem, peak_floor_kw=peak_floor_kw)
        power_kw = controlled_power(problem, snap.policy,
                                    future=_future(snap, forecast, period_s, periods))
    why = binding(problem, power_kw, snap.policy,
                  frequency_response=snap.policy in FREQUENCY_POLICIES)[:, 0]
    wanted_w = np.maximum(power_kw[:, 0], 0.0) * 1000.0
    cap_w = budget_w if snap.policy != Policy.UNCONTROLLED else float("inf")
    min_w = np.array([min_power_w(s) for s in steered])
    max_w = np.array([s.max_w for s in steered])
    if names and snap.policy != Policy.UNCONTROLLED:
        power_w = apply_minimums_rows(
            wanted_w, min_w, max_w, np.vstack([np.ones((1, n)), rows]),
            np.concatenate([[min(cap_w, planned_w(wanted_w, max_w))], rows_kw[:, 0] * 1000.0]))
    else:
        power_w = apply_minimums(wanted_w, min_w, max_w, cap_w)
    if snap.policy != Policy.UNCONTROLLED:
        # A car that got the energy it asked for (ISO 15118) but says it would take more
        # (Charging, or SuspendedEVSE: waiting for the EVSE) is not full: its request was a
        # target, not a cap. It comes after every car short of its request.
        topped = np.array([s.needs_source == "ev" and s.requested_wh <= s.energy_wh
                           and s.ev_state in WANTS_MORE for s in steered])
        needy = np.array([s.requested_wh > s.energy_wh for s in steered]) | topped
        site_rows = np.vstack([np.ones((1, n)), rows]) if names else np.ones((1, n))
        site_caps = np.concatenate([[cap_w], rows_kw[:, 0] * 1000.0]) if names \
            else np.array([cap_w])
        # Floors are checked on every phase, kept rows or not.
        floor_rows = np.vstack([np.ones((1, n)), np.array(
            [session_weights(s) for s in steered]).T.reshape(3, n)])
        floor_caps = np.concatenate([[cap_w], phase_limits_kw(
            phase_limit_kw(snap.capacity_kw, snap.policy_params), base[:1], pv[:1],
            phase_reserve / 1000.0)[:, 0] * 1000.0])
        order = np.argsort(rank, kind="stable")
        order = np.concatenate([order[~topped[order]], order[topped[order]]])
        power_w = lift_to_floor(power_w, np.array([floor_power_w(s) for s in steered]),
                                max_w, needy, order, floor_rows, floor_caps)
        if snap.policy == Policy.LOAD_BALANCING:  # as soon as possible: the rest of the room
            power_w = top_up(power_w, max_w, topped, order, site_rows, site_caps)
    # Only V2G sessions can be planned below zero (their lower bound); keep the discharge.
    v2g_now_kw = np.array([v2g_now_kw_of(power_kw[i], peak, price) if discharge_kw[i] > 0
                           else power_kw[i, 0] for i in range(n)])
    discharge_w = np.minimum(v2g_now_kw, 0.0) * 1000.0
    power_w = np.where(discharge_w < -NOISE_W, discharge_w, power_w)
    # A car whose learned maximum lies below its minimum power stopped drawing by itself
    # (full, or paused): the EV is the limit, not the 6 A step.
    reasons = tuple("v2g" if power_w[i] < 0 else
                    "ev_max" if max_w[i] < min_w[i] else
                    "min_current" if wanted_w[i] > 1 and power_w[i] == 0 else
                    "floor" if wanted_w[i] < NOISE_W < power_w[i] else str(why[i])
                    for i in range(n))
    return Plan(sessions=steered, power_w=power_w, why=reasons, ev_budget_w=budget_w,
                reserve_w=reserve, base_kw=float(base[0]), pv_kw=float(pv[0]), limit_kw=limit_kw,
                phase_reserve_w=phase_reserve)

