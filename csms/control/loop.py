"""The control loop: every control period, and soon after an arrival, a departure, a
NotifyEVChargingNeeds or a charging-state change, re-plan each site and send what changed.

It runs as tasks next to the gateway and never inside a message handler: handlers only set a
flag (``notify``); the loop's own task does the CALLs. Per site: snapshot (store) -> verify the
last limits against the meter readings -> fail-safe defaults -> plan (policy online, in a
thread: the LP must not stall the event loop) -> send changed limits -> record the site load.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta

from csms import clock
from csms.control import planner
from csms.control import state as st
from csms.control.actuator import Actuator, raised
from csms.control.v2g import with_v2g
from csms.control.verify import in_force, judge, offered_w, store_verdicts, verify_site
from csms.control.warmup import warm_up
from csms.domain import electrical
from csms.domain import events as ev
from csms.domain.durability import StoreUnavailable
from csms.domain.model import ProfilePurpose
from csms.ocpp import profiles as pf
from csms.sites.forecast import site_forecast
from csms.sites.snapshot import SiteSnapshot, site_snapshot
from csms.store.tables import SiteLoadRow

log = logging.getLogger(__name__)

TRIGGER_DELAY_S = 2.0  # simulated seconds: batch simultaneous arrivals into one run
# A TxProfile outlives this many control periods without renewal: long enough to keep the
# loop quiet (renewed when a third is left), short enough that chargers fall back to their
# fail-safe within half an hour when the CSMS is gone.
LEASE_PERIODS = 30.0


def _wall(simulated_s: float) -> float:
    return clock.current().wall_seconds(simulated_s)


class ControlLoop:
    def __init__(self, commands, worker, gateway, readback: bool = True, clocks=None) -> None:
        self.worker, self.gateway = worker, gateway
        self.actuator = Actuator(commands, worker, clocks)
        self.readback = readback
        self._offsets: dict[str, float] = {}  # charger -> clock offset s (last snapshot)
        # Chargers whose probe is under way: no fail-safe yet (before any profile of ours, the
        # probe reads the EVSE's own limit; and the units it accepts are not known yet).
        self._probing: set[str] = set()
        self._site_of: dict[str, int | None] = {}
        self._last_run: dict[int, datetime] = {}
        self._pending: set[int] = set()
        self._wake = asyncio.Event()
        self._locks: dict[int, asyncio.Lock] = {}
        self._periods: dict[int, int] = {}
        # (charger, "tx", transaction ref) -> (limit W, confirmed at): for deviation triggers
        self._limits: dict[tuple, tuple[float, datetime]] = {}
        self._peak_kw: dict[tuple[int, object], float] = {}
        self._forecasts: dict[int, tuple[object, object]] = {}  # site -> ((day, expected), forecast)
        self._tasks: set[asyncio.Task] = set()
        self._main: asyncio.Task | None = None
        self.runs = 0

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        self.gateway.on_connect.append(self.on_connect)
        # The first plan is ~40x slower; ``warmed`` is set once it has run (serve() then
        # freezes what the imports made: csms/loop_lag.py).
        self.warmed = asyncio.ensure_future(asyncio.to_thread(warm_up))
        self._tasks.add(self.warmed)
        self._main = asyncio.ensure_future(self._run_forever())

    async def stop(self) -> None:
        tasks = [t for t in [self._main, *self._tasks] if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.actuator.drain()

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- triggers (called from the gateway side: never block) ---------------------------------
    def notify(self, event: ev.Event) -> None:
        """A domain event was handled; re-plan its site soon if it changes who charges."""
        relevant = isinstance(event, ev.SessionStarted | ev.SessionEnded) or (
            isinstance(event, ev.ChargingNeedsReported)) \
            or (isinstance(event, ev.SessionUpdated) and event.charging_state is not None) \
            or (isinstance(event, ev.StatusReported) and event.status in ev.CHARGING_STATES)
        if relevant or self._deviates(event):
            self.trigger_charger(event.charger_id)

    def _deviates(self, event: ev.Event) -> bool:
        """Does a power reading depart from the limit in force (EV takes less, or the charger
        lets it take more)? Then re-plan now rather than at the next period."""
        if isinstance(event, ev.SessionUpdated):
            key = (event.charger_id, ProfilePurpose.TX, event.transaction_ref)
        elif isinstance(event, ev.MeterValuesReported) and event.transaction_ref is not None:
            key = (event.charger_id, ProfilePurpose.TX, event.transaction_ref)
        else:
            return False
        limit = self._limits.get(key)
        if limit is None:
            return False
        limit_w, sent_at = limit
        offset = timedelta(seconds=self._offsets.get(event.charger_id, 0.0))
        for sample in event.samples:
            if sample.measurand != "Power.Active.Import" or sample.phase:
                continue
            watts = sample.value
            taken_at = min(event.received_at, sample.timestamp - offset)  # on our clock
            verdict = judge(limit_w, sent_at, watts, taken_at, 0, True, None, 0.0)
            if verdict is not None and (verdict.violations or verdict.ev_max_w is not None):
                return True
        return False

    def trigger_charger(self, charger_id: str) -> None:
        site_id = self._site_of.get(charger_id)
        if site_id is None:
            self._spawn(self._lookup_and_trigger(charger_id))
        else:
            self.trigger_site(site_id)

    def trigger_site(self, site_id: int) -> None:
        self._pending.add(site_id)
        self._wake.set()

    async def _lookup_and_trigger(self, charger_id: str) -> None:
        site_id = await self.worker.read(st.site_of, charger_id)
        self._site_of[charger_id] = site_id
        if site_id is not None:
            self.trigger_site(site_id)

    async def on_connect(self, charger_id: str, protocol: str) -> None:
        self._probing.add(charger_id)
        self._spawn(self._after_boot(charger_id, protocol))

    async def _after_boot(self, charger_id: str, protocol: str) -> None:
        """Probe what the charger accepts and what it is, then let the site run install its
        fail-safe (again: a rebooted charger may have lost it)."""
        try:
            await asyncio.sleep(_wall(1.0))  # let BootNotification and statuses through first
            evse_ids, first_contact = await self.worker.read(st.boot_facts, charger_id)
            await self.worker.run(st.upsert_state, charger_id, 0, {"accepted": False},
                                  clock.now())
            await self.actuator.probe(charger_id, protocol, evse_ids, first_contact)
        finally:
            self._probing.discard(charger_id)
        self._site_of.pop(charger_id, None)
        self.trigger_charger(charger_id)

    async def _forecast(self, site_id: int, now: datetime, params: dict):
        """The site's demand forecast, fitted once per local day and again when the operator
        changes the cars expected a day (``csms.sites.forecast``)."""
        key = (now.astimezone(clock.SITE_TZ).date(), params.get("expected_arrivals_per_day"))
        cached = self._forecasts.get(site_id)
        if cached is None or cached[0] != key:
            cached = (key, await self.worker.read(site_forecast, site_id, now))
            self._forecasts[site_id] = cached
        return cached[1]

    # -- the loop ------------------------------------------------------------------------------
    async def _run_forever(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except StoreUnavailable as exc:  # the store logs the outage itself
                log.info("control loop: store unavailable (%s); retrying next period", exc.cause)
            except Exception:
                log.exception("control loop: run failed; retrying next period")
            try:
                await asyncio.wait_for(self._wake.wait(), _wall(10.0))
            except TimeoutError:
                pass
            if self._pending:
                await asyncio.sleep(_wall(TRIGGER_DELAY_S))
            self._wake.clear()

    async def tick(self) -> None:
        now = clock.now()
        for site_id in await self.worker.read(st.site_ids):
            last = self._last_run.get(site_id)
            due = site_id in self._pending or last is None
            if not due:
                due = (now - last).total_seconds() >= self._periods.get(site_id, 60)
            if due:
                self._pending.discard(site_id)
                await self.run_site(site_id)

    async def run_site(self, site_id: int) -> SiteSnapshot | None:
        lock = self._locks.setdefault(site_id, asyncio.Lock())
        async with lock:
            started = time.perf_counter()
            now = clock.now()
            # Wait for the writer to commit what chargers already told us: cars plugged in
            # together send their StartTransactions a few ms apart, and a snapshot taken
            # while the writer still holds most of them plans for one car, then needs a
            # second run (a control period's worth of reaction time on a busy store).
            await self.worker.run(_committed)
            # One read for the snapshot and the limits in force: on an arrival every
            # millisecond before the first limit is a car waiting at its fail-safe.
            snap, states = await self.worker.read(_snapshot, site_id, now)
            if snap is None:
                return None
            self._last_run[site_id] = now
            self._periods[site_id] = snap.control_period_s
            for c in snap.chargers:
                self._site_of[c.id] = site_id
            ids = [c.id for c in snap.chargers]
            self._offsets.update({c.id: c.clock_offset_s for c in snap.chargers})
            updates, flags, changed = verify_site(snap, states, now, self.readback)
            # Stored in the background unless the plan depends on it: the writer's queue is
            # busiest exactly when cars arrive.
            verified = self.worker.run(store_verdicts, updates, flags, now)
            if changed or any(not s.obeying for s in snap.sessions):
                # What was learned (or flagged) applies to this run, not the next.
                await verified
                snap, states = await self.worker.read(_snapshot, site_id, now)
            failsafe_w = planner.failsafe_power_w(snap)
            connected = [c for c in snap.chargers if c.connected and c.id in self.gateway.links
                         and c.id not in self._probing]
            await asyncio.gather(*(self.actuator.ensure_failsafe(c, failsafe_w, states)
                                   for c in connected))
            # What each charger's fail-safe lets an idle EVSE draw, after the charger's own
            # rounding (0 A for AC below 6 A, about 1 kW for DC): reserved per charger.
            applied = {}
            for c in snap.chargers:
                unit = pf.choose_unit(c.caps, c.ac)
                applied[c.id] = electrical.limit_power_w(
                    electrical.to_limit(failsafe_w, unit, c.phases), unit, c.phases)
            day = now.astimezone(clock.SITE_TZ).date()  # the tariff's day: local
            peak = self._peak_kw.get((site_id, day))
            if peak is None:  # first run of the day, or since a restart
                midnight = datetime.combine(day, datetime.min.time(), clock.SITE_TZ)
                peak = await self.worker.read(st.day_peak_kw, site_id, midnight)
                self._peak_kw = {k: v for k, v in self._peak_kw.items() if k[1] >= day}
            forecast = await self._forecast(site_id, now, snap.policy_params)
            plan = await asyncio.to_thread(planner.plan, snap, applied, peak, forecast)
            lease_s = float(snap.policy_params.get("lease_s",
                                                   LEASE_PERIODS * snap.control_period_s))
            # ``states`` still holds what apply compares with: verify and the fail-safe
            # write other fields (measurements, learned maxima) or other rows (EVSE 0).
            changes = await self.actuator.apply(snap, plan, states, lease_s, self.readback)
            # The reading the actuator asks for after a raised limit may come before this run
            # ends: judged against the limit just sent (a deviation only re-plans; what is
            # learned waits for the read-back, see ``verify``).
            sent_at = clock.now()
            for c in changes:
                if raised(c):
                    self._limits[(c.charger_id, ProfilePurpose.TX, c.transaction_ref)] = (
                        max(0.0, offered_w(c.value, c.unit, c.applied_w, c.phases)), sent_at)
            drawn_w = drawn_now_w(snap.sessions)  # recorded, and the day's peak below
            await self.worker.run(_record, snap, plan, now, drawn_w)
            await verified
            states = await self.worker.read(st.states, ids)
            composite = {c.id: c.caps.composite for c in snap.chargers}
            for s in snap.sessions:
                row = states.get((s.charger_id, s.evse_id))
                if in_force(row, composite[s.charger_id], self.readback) \
                        and row.session_id == s.session_id \
                        and row.limit_w is not None and row.sent_at is not None:
                    # A discharge set-point caps charging at 0: deviation is judged on that.
                    felt_w = offered_w(row.limit_value, row.limit_unit, row.limit_w,
                                       s.phases if s.ac else 0)
                    self._limits[(s.charger_id, ProfilePurpose.TX, s.transaction_ref)] = (
                        max(0.0, felt_w), row.sent_at)
            live = {(s.charger_id, ProfilePurpose.TX, s.transaction_ref) for s in snap.sessions}
            for key in [k for k in self._limits if k[0] in self._site_of and k not in live
                        and self._site_of.get(k[0]) == site_id]:
                del self._limits[key]
            self._peak_kw[(site_id, day)] = max(
                peak, drawn_w / 1000.0 + plan.base_kw - plan.pv_kw)
            self.runs += 1
            log.info("site %s: %d sessions, %.1f kW planned, %d limits sent in %.2f s",
                     snap.name, len(plan.sessions), float(plan.power_w.sum()) / 1000.0,
                     len(changes), time.perf_counter() - started)
            return snap


def drawn_now_w(sessions) -> float:
    """What the site's EVs draw now, as far as their readings tell: each car's latest reading,
    but no more than the limit last sent to it while it obeys its limits.

    Readings come a meter interval apart. Summed as they are, a car's reading from before its
    limit was lowered counts beside another's from after its limit was raised, a moment no
    car was in: the day's peak built so (the peak-shaving floor and the now-first bound) went
    to 70.4 kW on the demo day's 60-kW site, whose physical draw never passed 59.9 kW. A
    reading under a raised limit still counts as read: the estimate errs low, never above a
    draw some moment had."""
    total_w = 0.0
    for s in sessions:
        w = s.measured_w or 0.0
        if s.obeying and s.limit_w is not None:
            w = min(w, max(0.0, s.limit_w))
        total_w += w
    return total_w


def _committed(session) -> None:
    """A no-op writer job: awaiting it means every job queued before it has committed."""


def _snapshot(session, site_id: int, now: datetime) -> tuple[SiteSnapshot | None, dict]:
    """The site now and the smart-charging state of its chargers' EVSEs."""
    snap = site_snapshot(session, site_id, now)
    if snap is None:
        return None, {}
    return with_v2g(session, snap), st.states(session, [c.id for c in snap.chargers])


def _record(session, snap: SiteSnapshot, plan: planner.Plan, now: datetime,
            measured_w: float) -> None:
    why = dict(zip(((s.charger_id, s.evse_id) for s in plan.sessions), plan.why, strict=True))
    for (charger_id, evse_id), reason in why.items():
        st.upsert_state(session, charger_id, evse_id, {"why": reason}, now)
    for s in snap.sessions:
        if not s.obeying:
            st.upsert_state(session, s.charger_id, s.evse_id, {"why": "not_obeying"}, now)
    # measured_w: drawn_now_w, the day's peak after a restart (st.day_peak_kw)
    st.record_load(session, SiteLoadRow(
        site_id=snap.site_id, timestamp=now, limit_kw=plan.limit_kw,
        planned_ev_kw=float(plan.power_w.sum()) / 1000.0, measured_ev_kw=measured_w / 1000.0,
        base_kw=plan.base_kw, pv_kw=plan.pv_kw, policy=snap.policy,
        sessions=len(snap.sessions)))

