"""What a simulated charger does with a car: sessions, physics ticks, smart-charging obedience,
and the answers to the CSMS's requests that depend on them (version-neutral).

``SimCharger`` (``simulators.charger.base``) provides the link, the clock, the EVSEs, the
profile store and the protocol hooks (``on_status``, ``on_tx_started``, ...) this mixin calls.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from simulators.charger.model import (
    AVAILABLE,
    CHARGING,
    FINISHING,
    PREPARING,
    SUSPENDED_EV,
    SUSPENDED_EVSE,
    UNAVAILABLE,
    Evse,
    LedgerEntry,
    Tx,
)
from simulators.ev import EV, Limit, power, step
from simulators.smart import composite
from simulators.vehicles import FleetMix

log = logging.getLogger(__name__)
_STATE_TO_STATUS = {"Charging": CHARGING, "Discharging": CHARGING, "SuspendedEV": SUSPENDED_EV,
                    "SuspendedEVSE": SUSPENDED_EVSE}


class ChargingMixin:
    # -- physics and smart charging ---------------------------------------------------------
    def limit(self, evse: Evse, t: datetime) -> Limit | None:
        """Composite limit the EVSE obeys at site time ``t`` (A per phase for AC, W for DC),
        evaluated on the charger's own clock as a real charger does."""
        if self.faults.ignore_limits:
            return None
        unit = "A" if evse.supply.kind == "AC" else "W"
        tx = evse.tx
        lim = composite.limit_at(self.store.profiles, self.local.local(t), evse.id, unit, None,
                                 tx.started_at if tx else None, tx.csms_id if tx else None,
                                 evse.supply.phases)
        return None if lim is None else Limit(lim.value, unit, lim.number_phases)

    def tick_evse(self, evse: Evse, now: datetime, force_meter: bool = False) -> None:
        if evse.ev is None or evse.tx is None or evse.last_tick is None:
            evse.last_tick = now
            return
        dt_s = (now - evse.last_tick).total_seconds()
        if dt_s > 0:
            s = step(evse.ev, evse.supply, self.limit(evse, evse.last_tick), dt_s)
            if s.grid_energy_wh >= 0:
                evse.meter_wh += s.grid_energy_wh
            else:
                evse.export_wh -= s.grid_energy_wh
            evse.last_tick = now
        p = power(evse.ev, evse.supply, self.limit(evse, now))
        evse.power_w, evse.current_a = p.grid_power_w, p.current_a
        self.set_status(evse, _STATE_TO_STATUS[p.state])
        due = evse.last_meter is None or \
            (now - evse.last_meter).total_seconds() >= self.meter_interval_s - 1e-6
        if due or force_meter:
            evse.last_meter = now
            self.on_meter(evse)

    def tick(self, now: datetime | None = None) -> None:
        now = now or self.clock.now()
        for evse in self.evses:
            self.tick_evse(evse, now)

    async def _tick_loop(self) -> None:
        while True:
            await self.clock.sleep(min(self.tick_s, self.meter_interval_s))
            self.tick()

    def install_profile(self, profile) -> tuple[bool, str]:
        """Install a charging profile as a charger does. What was drawn until now is settled
        under the limits in force first: a new TxProfile may start in the past (a CSMS allows
        for clock skew), and settling after installing it would credit that time at the new
        limit. (accepted, reason if not)"""
        self.tick()
        ok, reason = self.store.install(profile, self.active_tx())
        if ok:
            self.tick()  # obey the new limits from now on
        return ok, reason

    def clear_profiles(self, profile_id, evse_id, purpose, stack_level) -> int:
        """ClearChargingProfile by id or criteria, settled like ``install_profile``."""
        self.tick()
        n = self.store.clear(profile_id, evse_id, purpose, stack_level)
        if n:
            self.tick()
        return n

    def install_pending_profile(self, evse: Evse, parse) -> None:
        """Install the TxProfile of a remote start now that the transaction has its id."""
        raw, evse.pending_profile = evse.pending_profile, None
        if raw is None or evse.tx is None or evse.tx.csms_id is None:
            return
        ok, reason = self.install_profile(parse(evse.id, raw, self.local.now()))
        if not ok:
            log.info("%s: remote-start profile rejected: %s", self.id, reason)

    def active_tx(self) -> dict[int, str]:
        return {e.id: e.tx.csms_id for e in self.evses if e.tx and e.tx.csms_id}

    # -- status and sessions ----------------------------------------------------------------
    def set_status(self, evse: Evse, status: str) -> None:
        if evse.status != status:
            old, evse.status = evse.status, status
            self.on_status(evse, old)

    def free_evses(self) -> list[Evse]:
        return [e for e in self.evses if e.ev is None and e.available and e.status == AVAILABLE]

    def _new_tx(self, evse: Evse, id_tag: str) -> Tx:
        self._tx_counter += 1
        now = self.local.now()  # what the charger reports: its own clock
        tx = Tx(f"{self.id}-{int(now.timestamp())}-{self._tx_counter}", id_tag, now,
                int(evse.meter_wh))
        self.ledger.append(LedgerEntry(self.id, evse.id, id_tag, tx.local_id, now,
                                       tx.meter_start_wh))
        return tx

    def _ledger(self, tx: Tx) -> LedgerEntry:
        return next(e for e in reversed(self.ledger) if e.local_tx_id == tx.local_id)

    def start_transaction(self, evse: Evse, id_tag: str) -> Tx:
        evse.tx = self._new_tx(evse, id_tag)
        evse.last_tick = evse.last_meter = self.clock.now()  # physics: site time
        self.on_tx_started(evse)
        return evse.tx

    def stop_transaction(self, evse: Evse, reason: str) -> None:
        tx = evse.tx
        if tx is None:
            return
        now = self.clock.now()
        self.tick_evse(evse, now)
        stopped_at = self.local.local(now)
        tx.stopped_at, tx.meter_stop_wh, tx.stop_reason = stopped_at, int(evse.meter_wh), reason
        entry = self._ledger(tx)
        entry.stopped_at, entry.meter_stop_wh, entry.stop_reason = (stopped_at, tx.meter_stop_wh,
                                                                    reason)
        evse.tx = None
        evse.power_w, evse.current_a = 0.0, (0.0, 0.0, 0.0)
        self.on_tx_ended(evse, tx)
        self.store.end_transaction(evse.id)

    async def session(self, evse: Evse, ev: EV, id_tag: str,
                      departure: datetime | None = None) -> LedgerEntry | None:
        """One driver: plug in, authorize, charge until departure or a stop, leave."""
        evse.ev, evse.id_tag, evse.departure = ev, id_tag, departure
        evse.stop.clear()
        evse.stop_reason = "EVDisconnected"
        self.set_status(evse, PREPARING)
        try:
            if not await self.authorize(id_tag):
                await self.clock.sleep(30.0)
                return None
            tx = self.start_transaction(evse, id_tag)
            self.tick_evse(evse, self.clock.now())
            while not evse.stop.is_set():
                left_s = None if departure is None else \
                    (departure - self.clock.now()).total_seconds()
                if left_s is not None and left_s <= 0:
                    break
                wall_s = None if left_s is None else self.clock.wall_seconds(left_s)
                try:
                    await asyncio.wait_for(evse.stop.wait(), wall_s)
                except TimeoutError:
                    break
            self.stop_transaction(evse, evse.stop_reason)
            self.set_status(evse, FINISHING)
            await self.clock.sleep(20.0)
            return self._ledger(tx)
        finally:
            if evse.tx is not None:  # cancelled mid-session
                self.stop_transaction(evse, "Other")
            evse.ev, evse.id_tag, evse.departure = None, None, None
            self.set_status(evse, AVAILABLE if evse.available else UNAVAILABLE)

    def plug_in(self, evse_id: int, ev: EV, id_tag: str,
                dwell_s: float | None = None) -> asyncio.Task:
        evse = self.evses[evse_id - 1]
        departure = None if dwell_s is None else self.clock.now() + timedelta(seconds=dwell_s)
        return self.spawn(self.session(evse, ev, id_tag, departure))

    def request_stop(self, evse: Evse, reason: str) -> None:
        evse.stop_reason = reason
        evse.stop.set()

    # -- shared answers to CSMS requests ----------------------------------------------------
    def remote_start_target(self, connector_id: int | None) -> Evse | None:
        candidates = self.evses if not connector_id else \
            [e for e in self.evses if e.id == connector_id]
        for e in candidates:
            if e.ev is None and e.available and e.status == AVAILABLE:
                return e
        return None

    def remote_start(self, evse: Evse, id_tag: str) -> None:
        """A driver who used the app and plugs in now; charges until RemoteStop."""
        spec = FleetMix.default().sample(self.rng, dc_only=self.type.kind == "DC")
        self.spawn(self.session(evse, EV(spec, soc_pct=30.0, target_soc_pct=90.0), id_tag))

    def composite_periods(self, evse_id: int, start, duration_s: int, unit: str):
        tx = self.evses[evse_id - 1].tx if evse_id else None
        hw = composite.Limit(self.type.max_power_w, "W", self.type.phases)
        return composite.composite_schedule(
            self.store.profiles, start, duration_s, evse_id, unit, hw,
            tx.started_at if tx else None, tx.csms_id if tx else None, self.type.phases)

    def change_availability(self, evse_id: int, operative: bool) -> str:
        targets = self.evses if evse_id == 0 else [e for e in self.evses if e.id == evse_id]
        if not targets:
            return "Rejected"
        scheduled = False
        for e in targets:
            e.available = operative
            if e.tx is not None:
                scheduled = True
            elif e.ev is None:
                self.set_status(e, AVAILABLE if operative else UNAVAILABLE)
        return "Scheduled" if scheduled else "Accepted"
