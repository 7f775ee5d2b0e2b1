"""One function per domain event: validate, persist, answer. No ocpp or fastapi imports.

Every function runs inside the store worker's transaction: ``fn(session, event) -> result``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from csms.domain import events as ev
from csms.domain.clock_offset import ClockBook
from csms.handlers import chargers, clocks, security, sessions
from csms.handlers.facts import SampleFacts


@dataclass(frozen=True)
class HandlerConfig:
    open_mode: bool = False
    heartbeat_interval_s: int = 300
    # Chargers' clock offsets, kept in memory by the writer thread (the only one using it).
    clocks: ClockBook = field(default_factory=ClockBook)
    sample_facts: SampleFacts = field(default_factory=SampleFacts)


_ROUTES = {
    ev.ChargerBooted: chargers.charger_booted,
    ev.HeartbeatReceived: chargers.heartbeat_received,
    ev.StatusReported: chargers.status_reported,
    ev.TokenPresented: chargers.token_presented,
    ev.ChargerNotified: chargers.charger_notified,
    ev.ChargingNeedsReported: chargers.charging_needs_reported,
    ev.SecurityIncident: chargers.security_incident,
    ev.ConnectionChanged: chargers.connection_changed,
    ev.SessionStarted: sessions.session_started,
    ev.SessionUpdated: sessions.session_updated,
    ev.SessionEnded: sessions.session_ended,
    ev.MeterValuesReported: sessions.meter_values_reported,
    ev.SecurityEventReported: security.security_event_reported,
    ev.CertificatePresented: security.certificate_presented,
    ev.CertificateIssued: security.certificate_issued,
    ev.PasswordConfirmed: security.password_confirmed,
}


def handle(session, event: ev.Event, config: HandlerConfig):
    """Route an event to its handler (runs in the store worker thread)."""
    result = _ROUTES[type(event)](session, event, config)
    clocks.observe(session, event, config)
    samples = getattr(event, "samples", ())
    if samples:
        config.sample_facts.observe(session, event.charger_id, samples)
    return result
