"""A simulated charger, version-neutral: link, boot, heartbeats, faults (sessions, physics ticks
and smart-charging obedience are in ``simulators.charger.charging``).

Subclasses (``v16.Charger16``, ``v201.Charger201``) turn events into OCPP messages and route
the CSMS's requests. Physics and departures run on the site's true clock (``clock``); every
timestamp the charger reports and every profile it evaluates use its own clock (``local``),
which takes the CSMS's time at each BootNotification unless a fault fixes its offset.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import time

import websockets

from simulators.charger.charging import ChargingMixin
from simulators.charger.link import LINK_ERRORS, BackOff, Outbox, OutMsg
from simulators.charger.model import (
    ChargerType,
    Evse,
    Faults,
    LedgerEntry,
    Tx,
)
from simulators.clock import ChargerClock, SimClock, parse_time
from simulators.smart.profiles import ProfileStore, Rules

log = logging.getLogger(__name__)


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


class SimCharger(ChargingMixin):
    protocol = ""
    subprotocol = ""
    ssl_context = None  # set for wss:// (csms-sim --tls-ca): security profiles 2 and 3

    def __init__(self, charger_id: str, url: str, ctype: ChargerType, clock: SimClock, *,
                 seed: int = 0, password: str | None = None, backoff: BackOff | None = None,
                 faults: Faults | None = None, meter_interval_s: float = 60.0,
                 heartbeat_interval_s: float = 300.0, tick_s: float = 15.0,
                 allowed_units: tuple[str, ...] | None = None, clock_offset_s: float = 0.0,
                 clock_follows_csms: bool = True, phase_rotation: str = "RST") -> None:
        self.id = charger_id
        self.url = f"{url.rstrip('/')}/{charger_id}"
        self.type = ctype
        self.clock = clock
        # The grid phases (R, S, T = L1, L2, L3) its own L1, L2, L3 are wired to; a one-phase
        # charger uses the first letter only. Reported, not simulated: the site has no phases.
        self.phase_rotation = phase_rotation
        self.local = ChargerClock(clock, clock_offset_s, clock_follows_csms)
        # Called with the CSMS's time from each BootNotification answer before the charger
        # takes it (the site re-bases its own clock on the first one).
        self.on_csms_time = None
        self.rng = random.Random(seed)
        self.password = password
        self.backoff = backoff or BackOff()
        self.faults = faults or Faults()
        self.meter_interval_s = meter_interval_s
        self.heartbeat_interval_s = heartbeat_interval_s
        self.tick_s = tick_s
        self.evses = [Evse(i + 1, ctype.supply()) for i in range(ctype.evses)]
        if allowed_units is None:  # DC chargers usually accept only W (docs/architecture.md)
            allowed_units = ("W",) if ctype.kind == "DC" else ("A", "W")
        self.store = ProfileStore(Rules(self.protocol, allowed_units=allowed_units))
        self.outbox = Outbox(charger_id, sleep=clock.sleep)
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
        if resp.current_time:
            csms_time = parse_time(resp.current_time)
            if self.on_csms_time is not None:
                self.on_csms_time(csms_time)
            self.local.sync(csms_time)
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
                            ssl=self.ssl_context,
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
