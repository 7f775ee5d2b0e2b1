"""A simulated charger, version-neutral: link, sessions, physics ticks, smart-charging obedience.

Subclasses (``v16.Charger16``, ``v201.Charger201``) turn events into OCPP messages and route
the CSMS's requests. All timestamps come from the simulator clock.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import time
from datetime import datetime, timedelta

import websockets

from simulators.charger.link import LINK_ERRORS, BackOff, Outbox, OutMsg
from simulators.charger.model import (
    AVAILABLE,
    CHARGING,
    FINISHING,
    PREPARING,
    SUSPENDED_EV,
    SUSPENDED_EVSE,
    UNAVAILABLE,
    ChargerType,
    Evse,
    Faults,
    LedgerEntry,
    Tx,
)
from simulators.clock import SimClock
from simulators.ev import EV, Limit, power, step
from simulators.smart import composite
from simulators.smart.profiles import ProfileStore, Rules
from simulators.vehicles import FleetMix

log = logging.getLogger(__name__)
_STATE_TO_STATUS = {"Charging": CHARGING, "Discharging": CHARGING, "SuspendedEV": SUSPENDED_EV,
                    "SuspendedEVSE": SUSPENDED_EVSE}


class _WireFilter(logging.Filter):
    """The library logs every frame at INFO and late answers at ERROR; keep them at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Error while handling"):
            # A bug in one of our handlers (the CSMS got a CALLERROR): worth a warning.
            record.levelno, record.levelname, record.exc_info = logging.WARNING, "WARNING", None
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger("simulators.wire").isEnabledFor(logging.DEBUG)


WIRE_LOG = logging.getLogger("simulators.wire")
WIRE_LOG.addFilter(_WireFilter())


class SimCharger:
    protocol = ""
    subprotocol = ""

    def __init__(self, charger_id: str, url: str, ctype: ChargerType, clock: SimClock, *,
                 seed: int = 0, password: str | None = None, backoff: BackOff | None = None,
                 faults: Faults | None = None, meter_interval_s: float = 60.0,
                 heartbeat_interval_s: float = 300.0, tick_s: float = 15.0,
                 allowed_units: tuple[str, ...] = ("A", "W")) -> None:
        self.id = charger_id
        self.url = f"{url.rstrip('/')}/{charger_id}"
        self.type = ctype
        self.clock = clock
        self.rng = random.Random(seed)
        self.password = password
        self.backoff = backoff or BackOff()
        self.faults = faults or Faults()
        self.meter_interval_s = meter_interval_s
        self.heartbeat_interval_s = heartbeat_interval_s
        self.tick_s = tick_s
        self.evses = [Evse(i + 1, ctype.supply()) for i in range(ctype.evses)]
        self.store = ProfileStore(Rules(self.protocol, allowed_units=allowed_units))
        self.outbox = Outbox(charger_id)
        self.ledger: list[LedgerEntry] = []
        self.connected = asyncio.Event()
        self.accepted = False  # BootNotification accepted on the current connection
        self.cp = None
        self._ws = None
        self._offline_until = 0.0
        self._boot_reason = "PowerUp"
        self._tx_counter = 0
        self._tasks: set[asyncio.Task] = set()
        self._run_task: asyncio.Task | None = None
        self._closing = False
        self.connects = 0

    # -- protocol hooks (subclasses) -------------------------------------------------------
    def make_cp(self, ws):  # pragma: no cover - abstract
        raise NotImplementedError

    calls = None  # the version's ocpp ``call`` module (ocpp.v16.call, ocpp.v201.call)

    def boot_call(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def authorize_call(self, id_tag: str):  # pragma: no cover - abstract
        raise NotImplementedError

    def authorization_status(self, resp) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    async def boot(self) -> bool:
        resp = await self.call_now(self.boot_call())
        if resp is None:
            return False
        if resp.interval:
            self.heartbeat_interval_s = float(resp.interval)
        self.accepted = resp.status == "Accepted"
        return self.accepted

    def heartbeat_msg(self) -> OutMsg:
        calls = self.calls
        return OutMsg(lambda: calls.Heartbeat())

    async def authorize(self, id_tag: str) -> bool:
        if not self.connected.is_set():
            return True  # LocalAuthorizeOffline: the driver may charge; the CSMS sees it later
        resp = await self.call_now(self.authorize_call(id_tag))
        if resp is None:
            return True
        return self.authorization_status(resp) == "Accepted"

    def on_status(self, evse: Evse, old: str) -> None:  # pragma: no cover
        raise NotImplementedError

    def on_tx_started(self, evse: Evse) -> None:  # pragma: no cover
        raise NotImplementedError

    def on_meter(self, evse: Evse) -> None:  # pragma: no cover
        raise NotImplementedError

    def on_tx_ended(self, evse: Evse, tx: Tx) -> None:  # pragma: no cover
        raise NotImplementedError

    # -- link ------------------------------------------------------------------------------
    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _headers(self) -> dict[str, str]:
        if not self.password:
            return {}
        token = base64.b64encode(f"{self.id}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    async def run(self) -> None:
        """Connect, boot, serve; reconnect with back-off forever (cancel to stop)."""
        self._run_task = asyncio.current_task()
        ticker = self.spawn(self._tick_loop())
        attempt = 0
        try:
            while not self._closing:
                wait_s = self._offline_until - time.monotonic()
                if wait_s > 0:
                    await asyncio.sleep(wait_s)
                try:
                    async with websockets.connect(
                            self.url, subprotocols=[self.subprotocol], compression=None,
                            additional_headers=self._headers(), open_timeout=10,
                            ping_interval=None, close_timeout=2, max_size=2**20) as ws:
                        attempt = 0
                        await self._serve(ws)
                except LINK_ERRORS + (TimeoutError, websockets.InvalidHandshake) as exc:
                    log.debug("%s: link down: %r", self.id, exc)
                except Exception:  # a bug: say so loudly, then behave like a rebooted charger
                    log.exception("%s: charger task failed; reconnecting", self.id)
                finally:
                    self._link_lost()
                await asyncio.sleep(self.backoff.delay_s(attempt, self.rng))
                attempt += 1
        finally:
            ticker.cancel()

    async def _serve(self, ws) -> None:
        self._ws = ws
        self.cp = cp = self.make_cp(ws)
        self.connects += 1
        reader = asyncio.ensure_future(cp.start())
        helpers: list[asyncio.Task] = []
        try:
            if not await self._boot_until_accepted(reader):
                return
            self.connected.set()
            for evse in self.evses:
                self.on_status(evse, "")  # report every connector after (re)boot
            helpers = [asyncio.ensure_future(self.outbox.drain(cp)),
                       asyncio.ensure_future(self._heartbeat_loop())]
            done, _ = await asyncio.wait([reader, *helpers], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # re-raise link errors; a clean return means the reader stopped
        finally:
            for task in [reader, *helpers]:
                task.cancel()
            await asyncio.gather(reader, *helpers, return_exceptions=True)

    async def _boot_until_accepted(self, reader: asyncio.Task) -> bool:
        while not reader.done():
            if await self.boot():
                self._boot_reason = "PowerUp"
                return True
            await self.clock.sleep(max(10.0, self.heartbeat_interval_s))
        return False

    def _link_lost(self) -> None:
        self.connected.clear()
        self.accepted = False
        self.cp = None
        self._ws = None
        self.outbox.drop_volatile()

    async def _heartbeat_loop(self) -> None:
        while True:
            await self.clock.sleep(self.heartbeat_interval_s)
            self.outbox.put(self.heartbeat_msg())

    def send(self, msg: OutMsg) -> None:
        """Queue a message; non-transactional ones are dropped while offline."""
        if msg.transactional or self.connected.is_set():
            self.outbox.put(msg)

    def send_after_answer(self, msg: OutMsg) -> None:
        """Queue a follow-up CALL once the current answer has left (e.g. a report)."""
        async def later() -> None:
            await asyncio.sleep(0.05)
            self.send(msg)
        self.spawn(later())

    async def call_now(self, payload):
        """Direct call (Boot, Authorize): the response, or None when offline or refused."""
        cp = self.cp
        if cp is None:
            return None
        try:
            return await cp.call(payload, suppress=False)
        except LINK_ERRORS + (TimeoutError,):
            return None
        except Exception as exc:  # CALLERROR from the CSMS: treat as no answer
            log.warning("%s: %s refused: %s", self.id, type(payload).__name__, exc)
            return None

    # -- faults ----------------------------------------------------------------------------
    def drop_link(self, offline_s: float = 0.0) -> None:
        """Cut the TCP connection without a close frame; stay offline ``offline_s`` wall s."""
        self._offline_until = time.monotonic() + offline_s
        ws = self._ws
        if ws is not None:
            ws.transport.abort()

    def reboot(self, offline_s: float = 1.0) -> None:
        """Power loss: ongoing transactions end (reason PowerLoss), the link drops."""
        for evse in self.evses:
            if evse.tx is not None:
                evse.stop_reason = "PowerLoss"
                evse.stop.set()
        self._boot_reason = "PowerUp"
        self.drop_link(offline_s)

    # -- physics and smart charging ---------------------------------------------------------
    def limit(self, evse: Evse, t: datetime) -> Limit | None:
        """Composite limit the EVSE obeys at ``t`` (A per phase for AC, W for DC)."""
        if self.faults.ignore_limits:
            return None
        unit = "A" if evse.supply.kind == "AC" else "W"
        tx = evse.tx
        lim = composite.limit_at(self.store.profiles, t, evse.id, unit, None,
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

    def settle(self) -> None:
        """Account what was drawn until now under the limits in force: called before the
        profile store changes (a new TxProfile starts 30 s in the past; settling after
        installing it would credit those seconds at the new limit)."""
        self.tick()

    def profiles_changed(self) -> None:
        """Obey the new limits from now on (what came before was settled by ``settle``)."""
        self.tick()

    def install_pending_profile(self, evse: Evse, parse) -> None:
        """Install the TxProfile of a remote start now that the transaction has its id."""
        raw, evse.pending_profile = evse.pending_profile, None
        if raw is None or evse.tx is None or evse.tx.csms_id is None:
            return
        self.settle()
        ok, reason = self.store.install(parse(evse.id, raw, self.clock.now()), self.active_tx())
        if ok:
            self.profiles_changed()
        else:
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
        now = self.clock.now()
        tx = Tx(f"{self.id}-{int(now.timestamp())}-{self._tx_counter}", id_tag, now,
                int(evse.meter_wh))
        self.ledger.append(LedgerEntry(self.id, evse.id, id_tag, tx.local_id, now,
                                       tx.meter_start_wh))
        return tx

    def _ledger(self, tx: Tx) -> LedgerEntry:
        return next(e for e in reversed(self.ledger) if e.local_tx_id == tx.local_id)

    def start_transaction(self, evse: Evse, id_tag: str) -> Tx:
        evse.tx = self._new_tx(evse, id_tag)
        evse.last_tick = evse.tx.started_at
        evse.last_meter = evse.tx.started_at
        self.on_tx_started(evse)
        return evse.tx

    def stop_transaction(self, evse: Evse, reason: str) -> None:
        tx = evse.tx
        if tx is None:
            return
        now = self.clock.now()
        self.tick_evse(evse, now)
        tx.stopped_at, tx.meter_stop_wh, tx.stop_reason = now, int(evse.meter_wh), reason
        entry = self._ledger(tx)
        entry.stopped_at, entry.meter_stop_wh, entry.stop_reason = now, tx.meter_stop_wh, reason
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

    async def close(self) -> None:
        """Stop everything. Cancels repeatedly: a cancellation swallowed by a library's
        ``wait_for`` race must not leave a charger reconnecting forever."""
        self._closing = True
        for _ in range(20):
            pending = [t for t in [self._run_task, *self._tasks] if t is not None and not t.done()]
            if not pending:
                break
            for task in pending:
                task.cancel()
            await asyncio.wait(pending, timeout=0.25)
        if self._ws is not None:
            self._ws.transport.abort()
