"""The store on the configured database (SQLite, and PostgreSQL in CI)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from csms import clock
from csms.store.db import create_engine
from csms.store.migrate import upgrade
from csms.store.tables import ChargerRow, SessionRow
from csms.store.worker import StoreWorker

pytestmark = pytest.mark.store
_refs = itertools.count()


def test_migrations_are_idempotent_and_complete(database_url):
    upgrade(database_url)  # second run is a no-op
    engine = create_engine(database_url)
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert {"chargers", "connectors", "sessions", "meter_samples", "transaction_events",
            "commands", "id_tokens", "api_tokens", "charger_events",
            "alembic_version"} <= tables


def test_datetimes_come_back_aware_utc(database_url):
    engine = create_engine(database_url)
    casablanca = timezone(timedelta(hours=1))
    when = datetime(2026, 6, 1, 12, 0, tzinfo=casablanca)
    with Session(engine) as s:
        s.add(ChargerRow(id="TZ", registered_at=when))
        s.commit()
    with Session(engine) as s:
        got = s.get(ChargerRow, "TZ").registered_at
    engine.dispose()
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0) and got == when


def test_naive_datetime_is_refused(database_url):
    engine = create_engine(database_url)
    with Session(engine) as s, pytest.raises(sa.exc.StatementError):
        s.add(ChargerRow(id="NAIVE", registered_at=datetime(2026, 1, 1)))
        s.commit()
    engine.dispose()


def _session(charger: str) -> SessionRow:
    return SessionRow(charger_id=charger, protocol="1.6", transaction_ref=f"p{next(_refs)}",
                      evse_id=1,
                      started_received_at=clock.now())


def test_transaction_ids_never_repeat(database_url):
    """1.6 transactionIds come from the session id: deleting rows must not free ids."""
    engine = create_engine(database_url)
    with Session(engine) as s:
        rows = [_session("A") for _ in range(3)]
        s.add_all(rows)
        s.commit()
        top = max(r.id for r in rows)
        s.delete(rows[-1])
        s.commit()
    engine.dispose()
    engine = create_engine(database_url)  # a "restart"
    with Session(engine) as s:
        new = _session("A")
        s.add(new)
        s.commit()
        assert new.id > top
    engine.dispose()


@pytest.mark.allow_error_logs  # the failing job is logged at ERROR, as it should be
async def test_worker_batch_failure_loses_nothing(database_url):
    """One failing job in a batch is retried alone; the others still commit."""
    engine = create_engine(database_url)
    worker = StoreWorker(engine)
    worker.start()

    def add(session, ident):
        session.add(ChargerRow(id=ident, registered_at=clock.now()))
        session.flush()
        return ident

    futures = [worker.run(add, f"W{i}") for i in range(20)]
    futures.append(worker.run(add, "W3"))  # duplicate primary key: fails
    results = await asyncio.gather(*futures, return_exceptions=True)
    await worker.stop()
    assert [r for r in results[:20]] == [f"W{i}" for i in range(20)]
    assert isinstance(results[20], sa.exc.IntegrityError)
    with Session(engine) as s:
        assert len(s.exec(select(ChargerRow)).all()) == 20
    engine.dispose()


def test_models_match_migrations(database_url):
    """Every table change comes with a migration: autogenerate finds nothing to add."""
    from alembic import command
    from csms.store.migrate import alembic_config

    command.check(alembic_config(database_url))


def test_downgrade_to_base_and_back(database_url):
    from alembic import command
    from csms.store.migrate import alembic_config

    cfg = alembic_config(database_url)
    command.downgrade(cfg, "base")
    command.upgrade(cfg, "head")


def test_0007_keeps_one_row_per_reading_already_stored_twice(database_url):
    """A database that stored re-sent 1.6 MeterValues twice upgrades to one row per reading."""
    from alembic import command
    from csms.store.migrate import alembic_config

    cfg = alembic_config(database_url)
    command.downgrade(cfg, "0006")
    engine = create_engine(database_url)
    at = datetime(2026, 4, 1, 8, 0)
    row = {"charger_id": "DUP", "session_id": None, "evse_id": 1, "timestamp": at,
           "received_at": at, "measurand": "Energy.Active.Import.Register", "value": 1.0,
           "unit": "Wh", "phase": None, "location": None, "context": None}
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO meter_samples (charger_id, session_id, evse_id, timestamp, received_at,"
            " measurand, value, unit, phase, location, context) VALUES (:charger_id,"
            " :session_id, :evse_id, :timestamp, :received_at, :measurand, :value, :unit,"
            " :phase, :location, :context)"),
            [row, row, {**row, "phase": "L1"}, {**row, "phase": "L1"}, {**row, "phase": "L2"}])
    command.upgrade(cfg, "head")
    with engine.begin() as conn:
        phases = sorted(str(p) for (p,) in conn.execute(sa.text(
            "SELECT phase FROM meter_samples WHERE charger_id = 'DUP'")))
    engine.dispose()
    assert phases == ["L1", "L2", "None"]


def test_0012_types_the_charging_needs_already_stored(database_url):
    """NotifyEVChargingNeeds rows stored raw (camelCase) before 0012 hold the typed fact after
    it, as the adapters store it now; a downgrade gives the OCPP form back."""
    import json

    from alembic import command
    from csms.domain.charging_needs import ChargingNeeds
    from csms.ocpp.charging_needs import parse
    from csms.store.migrate import alembic_config

    cfg = alembic_config(database_url)
    command.downgrade(cfg, "0011")
    raw = {"evseId": 1, "chargingNeeds": {
        "requestedEnergyTransfer": "DC_BPT", "availableEnergyTransfer": ["DC", "DC_BPT"],
        "departureTime": "2026-03-03T13:00:00+02:00",
        "dcChargingParameters": {"evMaxCurrent": 110, "evMaxVoltage": 440,
                                 "energyAmount": 7600, "evMaxPower": 45000,
                                 "evEnergyCapacity": 40000, "stateOfCharge": 70},
        "v2xChargingParameters": {"maxDischargePower": 20000,
                                  "evMinV2XEnergyRequest": -11400, "targetSoC": 80}}}
    engine = create_engine(database_url)
    at = datetime(2026, 3, 3, 8, 0)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO charger_events (charger_id, kind, evse_id, payload, received_at) "
            "VALUES ('NEEDS', 'NotifyEVChargingNeeds', 1, :payload, :at)"),
            {"payload": json.dumps(raw), "at": at})
    select_payload = sa.text("SELECT payload FROM charger_events WHERE charger_id = 'NEEDS'")
    try:
        command.upgrade(cfg, "head")
        with engine.begin() as conn:
            (stored,) = conn.execute(select_payload).scalars().all()
        stored = json.loads(stored) if isinstance(stored, str) else stored
        assert ChargingNeeds.from_json(stored) == parse(raw)
        command.downgrade(cfg, "0011")
        with engine.begin() as conn:
            (back,) = conn.execute(select_payload).scalars().all()
        back = json.loads(back) if isinstance(back, str) else back
        assert parse(back) == parse(raw)
    finally:
        command.upgrade(cfg, "head")
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM charger_events WHERE charger_id = 'NEEDS'"))
        engine.dispose()


def test_0013_stores_meter_samples_in_base_units(database_url):
    """Samples stored in kilo units before 0013 are in base units after it, as the OCPP edge
    stores them now (csms.ocpp.common.in_base_unit); nothing else changes."""
    from alembic import command
    from csms.store.migrate import alembic_config

    cfg = alembic_config(database_url)
    command.downgrade(cfg, "0012")
    engine = create_engine(database_url)
    at = datetime(2026, 3, 3, 8, 0)
    rows = [("Energy.Active.Import.Register", 3.5, "kWh"), ("Power.Active.Import", 7.2, "kW"),
            ("Power.Reactive.Import", 1.5, "kvar"), ("Current.Import", 16.0, "A"),
            ("Energy.Active.Import.Register", 900.0, "Wh")]
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO chargers (id, registered_at, connected, "
                             "auto_registered) VALUES ('UNITS', :at, false, false)"), {"at": at})
        for n, (measurand, value, unit) in enumerate(rows):
            conn.execute(sa.text(
                "INSERT INTO meter_samples (charger_id, evse_id, timestamp, received_at, "
                "measurand, value, unit) VALUES ('UNITS', 1, :ts, :ts, :m, :v, :u)"),
                {"ts": at.replace(minute=n), "m": measurand, "v": value, "u": unit})
    try:
        command.upgrade(cfg, "head")
        with engine.begin() as conn:
            got = conn.execute(sa.text("SELECT measurand, value, unit FROM meter_samples "
                                       "WHERE charger_id = 'UNITS' ORDER BY timestamp")).all()
        assert [tuple(r) for r in got] == [
            ("Energy.Active.Import.Register", 3500.0, "Wh"), ("Power.Active.Import", 7200.0, "W"),
            ("Power.Reactive.Import", 1500.0, "var"), ("Current.Import", 16.0, "A"),
            ("Energy.Active.Import.Register", 900.0, "Wh")]
    finally:
        command.upgrade(cfg, "head")
        engine.dispose()
