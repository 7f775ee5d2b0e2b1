"""A site's load series from meter values and the site models.

EV power per step is the energy each session's register gained in that step (registers
interpolated linearly between readings), so a step's value is its mean power, whatever the
chargers' sampling instants. Per phase, a session's power is spread as the planner spreads it
(``csms.sites.phases``): over the site phases its charger's wiring puts the phases the EV drew
on (``Current.Import`` per phase; all wired phases when not reported; DC balanced). Base load
and PV come from the site's models; import = base + EV - PV; the limit is the one the control
loop had in force (else the capacity now). Readings are placed on our clock: each charger's
timestamps less its estimated clock offset (``csms.domain.clock_offset``), so chargers whose
clocks are minutes apart add up in the same steps.

Readings outside any transaction (clock-aligned data: 1.6 MeterValues without a
transactionId, 2.0.1 MeterValuesRequest) count only what no session counts: the main meter
(EVSE 0; 2.0.1 J01 gives evseId 0 to the station's main meter) is left out, since its energy is
its EVSEs', and an EVSE's own readings gain nothing across an interval one of its sessions
overlaps (its idle readings before and after a session span all of the session's energy). An
EVSE drawing with no transaction at all (free vend) still counts.

Chargers report at their own instants, so at the end of a window (the live edge) most
sessions' last reading lies a little before the freshest one on the site. A session still in
progress is held at its last measured rate up to that freshest reading (at most ``MAX_HOLD_S``):
counting nothing there showed a busy site's current minute at a fraction of its draw. Nothing
is held past what some charger of the site has already reported.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from csms.domain.model import ENERGY_REGISTER as REGISTER
from csms.sites.models import base_and_pv_kw
from csms.sites.phases import phase_weights
from csms.sites.snapshot import session_start
from csms.store.tables import ChargerRow, MeterSampleRow, SessionRow, SiteLoadRow, SiteRow

log = logging.getLogger(__name__)

CURRENT = "Current.Import"
MAX_STEPS = 20_000
MAX_HOLD_S = 900.0  # a session silent longer than this is not extrapolated


@dataclass(frozen=True)
class LoadSeries:
    """Step starts (T,) and per-step means (T,) in kW; ``ev_kw_per_phase`` is (T, 3)."""

    timestamps: list[datetime]
    step_s: int
    ev_kw: np.ndarray
    ev_kw_per_phase: np.ndarray
    base_kw: np.ndarray
    pv_kw: np.ndarray
    import_kw: np.ndarray
    limit_kw: np.ndarray

    def as_json(self) -> dict:
        r = lambda a: [round(float(v), 3) for v in a]  # noqa: E731
        return {"timestamps": [t.isoformat() for t in self.timestamps], "step_s": self.step_s,
                "ev_kw": r(self.ev_kw), "ev_kw_per_phase": [r(row) for row in self.ev_kw_per_phase],
                "base_kw": r(self.base_kw), "pv_kw": r(self.pv_kw),
                "import_kw": r(self.import_kw), "limit_kw": r(self.limit_kw)}


def _drawing_phases(session: Session, charger_ids: list[str], t0: datetime, t1: datetime
                    ) -> dict[int, int]:
    """Per session id: on how many of its charger's phases the EV drew (``Current.Import``
    per phase above 0.5 A), for the sessions that reported it."""
    rows = session.exec(select(MeterSampleRow.session_id, MeterSampleRow.phase).where(
        MeterSampleRow.charger_id.in_(charger_ids), MeterSampleRow.measurand == CURRENT,
        MeterSampleRow.session_id != None, MeterSampleRow.value > 0.5,  # noqa: E711
        MeterSampleRow.timestamp >= t0, MeterSampleRow.timestamp <= t1).distinct()).all()
    out: dict[int, set] = {}
    for sid, phase in rows:
        if phase and phase[:2] in ("L1", "L2", "L3"):
            out.setdefault(sid, set()).add(phase[:2])
    return {sid: len(p) for sid, p in out.items()}


def ev_energy_steps(times_s: np.ndarray, register_wh: np.ndarray, edges_s: np.ndarray,
                    hold_until_s: float | None = None) -> np.ndarray:
    """(T,) Wh gained per step [edges[k], edges[k+1]) by one register read at ``times_s``.

    Outside the readings nothing is gained (the session was not there), except up to
    ``hold_until_s`` after the last one, at the rate between the last two readings (a
    session in progress whose next reading is not in yet)."""
    order = np.argsort(times_s)
    t, e = np.asarray(times_s, float)[order], np.asarray(register_wh, float)[order]
    if t.size < 2:
        return np.zeros(len(edges_s) - 1)
    if hold_until_s is not None and hold_until_s > t[-1] and t[-1] > t[-2]:
        rate = max(0.0, (e[-1] - e[-2]) / (t[-1] - t[-2]))
        t, e = np.append(t, hold_until_s), np.append(e, e[-1] + rate * (hold_until_s - t[-1]))
    at = np.interp(np.clip(edges_s, t[0], t[-1]), t, e)
    return np.diff(at)


def outside_sessions(points: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
    """(n, 2) (s, Wh) register readings of an EVSE outside transactions, with the gain between
    two readings removed when a session of that EVSE overlaps them: its own series counts it
    (idle readings before and after a session span all of its energy)."""
    if len(points) < 2 or not spans:
        return points
    p = points[np.argsort(points[:, 0])]
    gain = np.diff(p[:, 1])
    a, b = p[:-1, 0], p[1:, 0]
    covered = np.zeros(gain.size, bool)
    for start_s, stop_s in spans:
        covered |= (start_s < b) & (stop_s > a)
    register = p[0, 1] + np.concatenate([[0.0], np.cumsum(np.where(covered, 0.0, gain))])
    return np.column_stack([p[:, 0], register])


def _session_spans(session: Session, charger_ids: list[str], since: datetime, until: datetime,
                   offset_s: dict[str, float]) -> dict[tuple[str, int], list[tuple[float, float]]]:
    """(charger, EVSE) -> its sessions' (start, stop) in epoch s on our clock
    (``session_start``'s rule at both ends), for sessions overlapping the window (a session
    not stopped: until the end of time)."""
    s = SessionRow
    rows = session.exec(select(s).where(
        s.charger_id.in_(charger_ids), s.started_received_at <= until,
        sa.or_(s.stopped_received_at.is_(None), s.stopped_received_at >= since))).all()
    out: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for r in rows:
        shift = offset_s.get(r.charger_id, 0.0)
        ends = [t for t in (r.stopped_received_at, r.stopped_at and
                            r.stopped_at - timedelta(seconds=shift)) if t is not None]
        stop = min(ends).timestamp() if ends else math.inf
        out.setdefault((r.charger_id, r.evse_id or 0), []).append(
            (session_start(r, shift).timestamp(), stop))
    return out


def site_load(session: Session, site_id: int, t0: datetime, t1: datetime,
              step_s: int = 60) -> LoadSeries | None:
    site = session.get(SiteRow, site_id)
    if site is None:
        return None
    steps = max(1, min(MAX_STEPS, int((t1 - t0).total_seconds() // step_s)))
    edges = np.array([t0.timestamp() + k * step_s for k in range(steps + 1)])
    times = [t0 + timedelta(seconds=k * step_s) for k in range(steps)]
    chargers = {c.id: c for c in session.exec(select(ChargerRow).where(
        ChargerRow.site_id == site_id)).all()}
    ev_phase_kw = np.zeros((steps, 3))
    if chargers:
        offset_s = {cid: c.clock_offset_s or 0.0 for cid, c in chargers.items()}
        margin = timedelta(hours=1, seconds=max(abs(v) for v in offset_s.values()))
        by_series: dict[tuple, list] = {}
        rows = _register_buckets(session, site_id, t0 - margin, t1 + margin, step_s,
                                 t0.timestamp(), margin.total_seconds())
        for charger_id, session_id, evse_id, first_ts, last_ts, low, high in rows:  # Wh
            if session_id is None and not evse_id:
                continue  # the charger's main meter: its EVSEs' sessions count that energy
            key = (charger_id, session_id if session_id is not None else ("evse", evse_id))
            points = by_series.setdefault(key, [])
            points.append((first_ts.timestamp() - offset_s[charger_id], low))
            if last_ts > first_ts:
                points.append((last_ts.timestamp() - offset_s[charger_id], high))
        drawing = _drawing_phases(session, list(chargers), t0 - margin, t1 + margin)
        live = _in_progress(session, [k[1] for k in by_series if isinstance(k[1], int)])
        # Only readings outside transactions need the sessions' spans (most sites have none).
        spans = _session_spans(session, list(chargers), t0 - margin, t1 + margin, offset_s) \
            if any(not isinstance(k[1], int) for k in by_series) else {}
        freshest_s = min(max((p[0] for pts in by_series.values() for p in pts), default=0.0),
                         t1.timestamp())
        for (charger_id, series), points in by_series.items():
            arr = np.array(points)
            if not isinstance(series, int):  # an EVSE's readings outside any transaction
                arr = outside_sessions(arr, spans.get((charger_id, series[1]), []))
            hold = None
            if series in live:
                hold = min(freshest_s, float(arr[:, 0].max()) + MAX_HOLD_S)
            gained_wh = ev_energy_steps(arr[:, 0], arr[:, 1], edges, hold)
            kw = gained_wh / 1000.0 / (step_s / 3600.0)
            c = chargers[charger_id]
            # As the planner sees it: the EV's k phases are the charger's first k wired ones.
            weights = phase_weights(c.phase_wiring, drawing.get(series),
                                    (c.charger_type or "AC").upper() != "DC")
            ev_phase_kw += kw[:, None] * weights[None]
    ev_kw = ev_phase_kw.sum(axis=1)
    base, pv = base_and_pv_kw(site, t0, step_s, steps)
    return LoadSeries(times, step_s, ev_kw, ev_phase_kw, base, pv, base + ev_kw - pv,
                      _limits(session, site, times))


def _register_buckets(session: Session, site_id: int, since: datetime, until: datetime,
                      step_s: int, edge0_s: float, margin_s: float) -> list[tuple]:
    """The site's chargers' total-register readings, aggregated in SQL: per series and per
    step, the first and the last reading (a register only grows, so they are MIN and MAX).
    Steps are aligned with the series' edges on each charger's clock (``edge0_s`` plus the
    charger's offset, joined in the query: one query for the site, however many chargers). The
    register at every step edge interpolates between the last reading before it and the first
    after it, exactly as from every row, but a month of minute readings is a few rows per step
    instead of all of them."""
    m, c = MeterSampleRow, ChargerRow
    # Readings lie within ``margin_s`` of the window and offsets within it too: shifting the
    # origin this many whole steps earlier keeps every bucket number non-negative, so SQLite's
    # truncating CAST is a floor (PostgreSQL floors anyway).
    shift_s = math.ceil(2.0 * margin_s / step_s + 1) * step_s
    origin = edge0_s - shift_s + sa.func.coalesce(c.clock_offset_s, 0.0)
    bucket = step_bucket(session, m.timestamp, origin, step_s).label("bucket")
    return session.execute(
        select(m.charger_id, m.session_id, m.evse_id, sa.func.min(m.timestamp),
               sa.func.max(m.timestamp), sa.func.min(m.value), sa.func.max(m.value))
        .join(c, c.id == m.charger_id)
        .where(c.site_id == site_id, m.measurand == REGISTER,
               sa.or_(m.phase.is_(None), m.phase.in_(("", "N"))), m.flag.is_(None),
               m.timestamp >= since, m.timestamp <= until)
        .group_by(m.charger_id, m.session_id, m.evse_id, bucket)).all()


def step_bucket(session: Session, timestamp, origin_s, step_s: int):
    """SQL: the step of ``timestamp`` counted from ``origin_s`` (epoch seconds, a number or an
    expression), for timestamps after the origin. SQLite stores naive UTC text, which
    julianday reads as UTC, and its CAST truncates (a floor for non-negative values)."""
    if session.get_bind().dialect.name == "sqlite":
        # julianday's double resolves ~50 us today: rounded to the millisecond, a reading
        # exactly on a step edge falls in the step it starts, not the one before.
        epoch = sa.func.round((sa.func.julianday(timestamp) - 2440587.5) * 86400.0, 3)
        return sa.cast((epoch - origin_s) / step_s, sa.Integer)
    return sa.func.floor((sa.extract("epoch", timestamp) - origin_s) / step_s)


def _in_progress(session: Session, session_ids: list[int]) -> set[int]:
    if not session_ids:
        return set()
    return set(session.exec(select(SessionRow.id).where(
        SessionRow.id.in_(session_ids), SessionRow.active == True)).all())  # noqa: E712


def _limits(session: Session, site: SiteRow, times: list[datetime]) -> np.ndarray:
    """The limit in force at each step start: the loop's records, held; else the capacity."""
    rows = session.exec(select(SiteLoadRow).where(
        SiteLoadRow.site_id == site.id, SiteLoadRow.timestamp <= times[-1],
        SiteLoadRow.timestamp >= times[0] - timedelta(days=1))
        .order_by(SiteLoadRow.timestamp)).all()
    if not rows:
        return np.full(len(times), site.capacity_kw)
    stamps = np.array([r.timestamp.timestamp() for r in rows])
    values = np.array([r.limit_kw for r in rows])
    idx = np.searchsorted(stamps, [t.timestamp() for t in times], side="right") - 1
    return np.where(idx >= 0, values[np.clip(idx, 0, None)], site.capacity_kw)
