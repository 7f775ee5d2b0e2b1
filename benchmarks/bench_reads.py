"""A month of a site's load from 600,000 meter rows: SQL aggregation against reading every row.

Data: one site, 20 chargers, a session per charger per day for 31 days, each reporting its
energy register every minute for 16 h (595,200 rows), in SQLite. Measured: ``site_load`` for the
31-day window at 15-minute steps (what the console's month chart asks), which aggregates in SQL
(first and last register reading per series and step), against the reference of the same
computation over every row as it was stored (what ``site_load`` did before). Both give the same
series (checked); time and the process's peak RSS growth are reported.
"""

from __future__ import annotations

import gc
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta

import numpy as np

CHARGERS = 20
DAYS = 31
HOURS_PER_DAY = 16
STEP_S = 900
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _fill(url: str) -> int:
    import sqlalchemy as sa
    from sqlmodel import Session

    from csms.store.db import create_engine
    from csms.store.migrate import upgrade
    from csms.store.tables import ChargerRow, MeterSampleRow, SessionRow, SiteRow

    upgrade(url)
    engine = create_engine(url)
    rows = 0
    with Session(engine) as s:
        site = SiteRow(name="bench", created_at=T0)
        s.add(site)
        s.flush()
        for c in range(CHARGERS):
            s.add(ChargerRow(id=f"R{c}", registered_at=T0, site_id=site.id))
        s.flush()
        table = MeterSampleRow.__table__
        for day in range(DAYS):
            batch = []
            for c in range(CHARGERS):
                start = T0 + timedelta(days=day, hours=6)
                row = SessionRow(charger_id=f"R{c}", protocol="1.6", transaction_ref=f"{c}-{day}",
                                 evse_id=1, started_received_at=start, active=False)
                s.add(row)
                s.flush()
                wh = 0.0
                for m in range(HOURS_PER_DAY * 60):
                    at = start + timedelta(minutes=m)
                    wh += 100.0 + (c % 5) * 20
                    batch.append({"charger_id": f"R{c}", "session_id": row.id, "evse_id": 1,
                                  "timestamp": at, "received_at": at,
                                  "measurand": "Energy.Active.Import.Register", "value": wh,
                                  "unit": "Wh"})
            s.connection().execute(table.insert(), batch)
            rows += len(batch)
        s.commit()
        s.execute(sa.text("ANALYZE"))
    engine.dispose()
    return rows


def _every_row(session, site_id: int, t0: datetime, t1: datetime, step_s: int) -> np.ndarray:
    """The reference: every register row read and interpolated in Python."""
    from sqlmodel import select

    from csms.sites.load import REGISTER, ev_energy_steps
    from csms.store.tables import ChargerRow, MeterSampleRow

    steps = int((t1 - t0).total_seconds() // step_s)
    edges = np.array([t0.timestamp() + k * step_s for k in range(steps + 1)])
    ids = list(session.exec(select(ChargerRow.id).where(ChargerRow.site_id == site_id)).all())
    m = MeterSampleRow
    series: dict = {}
    for cid, sid, value, ts in session.execute(select(
            m.charger_id, m.session_id, m.value, m.timestamp).where(
            m.charger_id.in_(ids), m.measurand == REGISTER, m.timestamp >= t0 - timedelta(hours=1),
            m.timestamp <= t1 + timedelta(hours=1))).all():
        series.setdefault((cid, sid), []).append((ts.timestamp(), value))
    kw = np.zeros(steps)
    for points in series.values():
        arr = np.array(points)
        kw += ev_energy_steps(arr[:, 0], arr[:, 1], edges) / 1000.0 / (step_s / 3600.0)
    return kw


def _measure(fn) -> tuple[float, float, object]:
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - started
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return elapsed, grown_mib, out


def run() -> str:
    from sqlmodel import Session

    from csms.sites.load import site_load
    from csms.store.db import create_engine

    url = f"sqlite:///{tempfile.mkdtemp()}/reads.db"
    rows = _fill(url)
    engine = create_engine(url)
    t1 = T0 + timedelta(days=DAYS)
    with Session(engine) as s:
        # SQL aggregation first: the reference's peak RSS would otherwise hide its growth.
        sql_s, sql_mib, series = _measure(lambda: site_load(s, 1, T0, t1, STEP_S))
        ref_s, ref_mib, reference = _measure(lambda: _every_row(s, 1, T0, t1, STEP_S))
    engine.dispose()
    worst = float(np.abs(series.ev_kw - reference).max())
    return "\n".join([
        "## Reads: a month of site load from 600k meter rows (`benchmarks/bench_reads.py`)",
        "",
        f"{rows:,} register rows (20 chargers, 31 days, one reading a minute for 16 h a day), "
        f"SQLite; `site_load` for the 31-day window at {STEP_S // 60}-minute steps. Largest "
        f"difference between the two series: {worst:.2e} kW.",
        "",
        "| read | time s | peak RSS growth MiB |",
        "|---|---|---|",
        f"| SQL aggregation (first/last reading per series and step) | {sql_s:.2f} | "
        f"{sql_mib:.0f} |",
        f"| every row (the previous `site_load`, reference) | {ref_s:.2f} | {ref_mib:.0f} |",
    ])


if __name__ == "__main__":
    print(run())
