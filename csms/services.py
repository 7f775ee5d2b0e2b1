"""Wiring: one object holding the engine, the store writer, the gateway and the outbox.

`csms serve` builds it once; tests build it around a temporary database.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import ocpp.messages
from sqlalchemy.engine import Engine

from csms import clock, retention, security
from csms.commands import CommandService
from csms.handlers import HandlerConfig, handle
from csms.loop_lag import LoopLag
from csms.ocpp.server import ChargerCredentials, Gateway
from csms.settings import Settings
from csms.store.db import create_engine
from csms.store.tables import ChargerRow
from csms.store.worker import StoreWorker

if TYPE_CHECKING:
    from csms.certificate_desk import CertificateDesk
    from csms.certificates import CertificateAuthority
    from csms.passwords import PasswordRotation

log = logging.getLogger(__name__)


def _credentials(session, identity: str, open_mode: bool, now) -> ChargerCredentials:
    row = session.get(ChargerRow, identity)
    if row is None:
        if not open_mode:
            return ChargerCredentials(exists=False)
        # Lab mode: register the unknown charger now, so its sessions have an owner, in the
        # default site so smart charging covers it.
        from csms.sites.service import default_site_id

        session.add(ChargerRow(id=identity, registered_at=now, auto_registered=True,
                               site_id=default_site_id(session, now)))
        return ChargerCredentials(exists=True)
    return ChargerCredentials(exists=True, password_hash=row.password_hash,
                              security_profile=row.security_profile or 0,
                              pending_password_hash=row.password_pending_hash,
                              allow_unauthenticated=bool(row.allow_unauthenticated))


@dataclass
class Services:
    settings: Settings
    engine: Engine
    worker: StoreWorker
    gateway: Gateway
    commands: CommandService
    handler_config: HandlerConfig = field(default_factory=HandlerConfig)
    # Called with each domain event after it is stored (the control loop's triggers); a hook
    # must not block: it runs on the gateway's message path.
    event_hooks: list = field(default_factory=list)
    certificates: CertificateDesk | None = None  # SignCertificate -> CertificateSigned
    passwords: PasswordRotation | None = None  # Basic password rotation
    control: object | None = None
    background: list = field(default_factory=list)  # tasks cancelled on stop

    @classmethod
    def build(cls, settings: Settings) -> Services:
        from csms.certificate_desk import CertificateDesk
        from csms.passwords import PasswordRotation

        # Inline validation (no thread hop per message): ~1.7x throughput (docs/architecture.md).
        ocpp.messages.ASYNC_VALIDATION = not settings.validate_inline
        engine = create_engine(settings.database_url)
        worker = StoreWorker(engine)
        config = HandlerConfig(open_mode=settings.open,
                               heartbeat_interval_s=settings.heartbeat_interval_s)

        hooks: list = []

        async def dispatch(event):
            result = await worker.run(handle, event, config)
            for hook in hooks:
                hook(event)
            return result

        async def credentials(identity: str) -> ChargerCredentials:
            return await worker.run(_credentials, identity, settings.open, clock.now())

        gateway = Gateway(settings, dispatch, credentials, security.verify_password, clock.now)
        gateway.store_refusing = worker.outage.refusing
        commands = CommandService(worker, gateway)
        services = cls(settings, engine, worker, gateway, commands, config, hooks)
        services.certificates = CertificateDesk(_load_ca(settings), dispatch, commands, worker,
                                                settings.tls_require_org)
        gateway.certificates = services.certificates
        services.passwords = PasswordRotation(worker, gateway, dispatch)
        return services

    async def start_tls(self) -> int | None:
        """The wss listener, when a server certificate is configured (``csms serve``)."""
        if not self.settings.tls_cert:
            return None
        from csms.tls import server_context

        context = server_context(self.settings.tls_cert, self.settings.tls_key,
                                 self.settings.tls_client_ca)
        return await self.gateway.start_tls(self.settings.host, self.settings.ocpp_tls_port,
                                            context)

    def start_control(self):
        """Start the smart-charging loop (``csms serve`` does; tests opt in)."""
        import scipy.optimize  # noqa: F401

        # Import what the first plan needs (pvlib, pandas, scipy) now: importing it lazily in
        # the first control period held the GIL long enough to stall every charger's replies.
        import csms.grid.baseload  # noqa: F401
        import csms.grid.solar  # noqa: F401
        import csms.tariff  # noqa: F401
        from csms.control.loop import ControlLoop

        self.control = ControlLoop(self.commands, self.worker, self.gateway,
                                   clocks=self.handler_config.clocks)
        self.event_hooks.append(self.control.notify)
        self.control.start()
        return self.control

    async def start(self) -> int:
        self.worker.start()
        await self.worker.run(_mark_all_offline)
        from csms.commands import end_interrupted
        from csms.sites.service import repair_stored_numbers

        await self.worker.run(repair_stored_numbers)

        if not self.settings.open:
            unauthenticated = await self.worker.read(_unauthenticated_chargers)
            if unauthenticated:
                log.warning("%d charger(s) may connect without a password "
                            "(allow_unauthenticated): %s", len(unauthenticated),
                            ", ".join(unauthenticated[:20])
                            + (" ..." if len(unauthenticated) > 20 else ""))
        ended = await self.worker.run(end_interrupted)
        if any(ended.values()):
            log.warning("commands left open by the previous run: %d sent now unknown, "
                        "%d queued now cancelled", ended["unknown"], ended["cancelled"])
        port = await self.gateway.start(self.settings.host, self.settings.ocpp_port)
        policy = retention.Retention(self.settings.retention_meter_days,
                                     self.settings.retention_control_days,
                                     self.settings.retention_frames_days)
        self.background.append(asyncio.ensure_future(retention.run_forever(self, policy)))
        self.loop_lag = LoopLag(self.settings.loop_lag_warn_s)
        self.background.append(asyncio.ensure_future(self.loop_lag.run()))
        return port

    async def stop(self) -> None:
        for task in self.background:
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)
        if self.control is not None:
            await self.control.stop()
        await self.gateway.stop()
        if self.certificates is not None:
            await self.certificates.stop()
        if self.passwords is not None:
            await self.passwords.drain()
        await self.commands.drain()
        await self.worker.stop()
        self.engine.dispose()


def _load_ca(settings: Settings) -> CertificateAuthority | None:
    from csms.certificates import CertificateAuthority

    if not (settings.ca_cert or settings.ca_key):
        return None
    if not (settings.ca_cert and settings.ca_key):
        raise ValueError("the CA needs both --ca-cert and --ca-key")
    return CertificateAuthority.load(settings.ca_cert, settings.ca_key)


def _unauthenticated_chargers(session) -> list[str]:
    from sqlmodel import select

    return list(session.exec(select(ChargerRow.id).where(
        ChargerRow.allow_unauthenticated == True,  # noqa: E712 (SQL expression)
        ChargerRow.password_hash.is_(None)).order_by(ChargerRow.id)).all())


def _mark_all_offline(session) -> None:
    """After a restart no charger is connected until it reconnects."""
    from sqlalchemy import update

    session.execute(update(ChargerRow).values(connected=False))
