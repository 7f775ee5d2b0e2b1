"""Retention: what the CSMS forgets, and when (settings ``retention_*_days``; 0 keeps forever).

- Meter samples (and the site-load records of the control loop) older than
  ``retention_meter_days``: the bulk of the database. Off by default: every meter value a
  charger sent is kept until the operator chooses otherwise (billing disputes, audits).
- The control loop's own commands (source ``control``: SetChargingProfile, read-backs, probes)
  older than ``retention_control_days`` (default 7): a session's limits are worth a week of
  diagnosis, not a year of disk. The operators' commands are kept.
- The in-memory OCPP frame log: frames older than ``retention_frames_days`` (default 7), and
  the log of a charger that has none left.

Ages are on the CSMS clock (a demo day at speed 72 is 20 minutes). Rows go in batches of
``BATCH`` so the store's single writer never holds the chargers' messages for long; meter
samples are found by id (their ids grow with the time they were received, so the boundary is
a binary search of primary-key lookups, not a scan).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from csms import clock
from csms.commands import CONTROL
from csms.domain.durability import StoreUnavailable
from csms.store.tables import CommandRow, MeterSampleRow, SiteLoadRow

log = logging.getLogger(__name__)

BATCH = 5_000
EVERY_S = 3600.0  # simulated seconds between passes


@dataclass(frozen=True)
class Retention:
    meter_days: float = 0.0
    control_days: float = 7.0
    frames_days: float = 7.0


def _first_id_at_or_after(session, table, column, cutoff: datetime) -> int | None:
    """The smallest id whose ``column`` >= ``cutoff``, assuming ids grow with it (None: every
    row is older)."""
    lo, hi = session.execute(sa.select(sa.func.min(table.c.id), sa.func.max(table.c.id))).one()
    if lo is None:
        return None
    if session.execute(sa.select(column).where(table.c.id == hi)).scalar() < cutoff:
        return hi + 1
    while lo < hi:  # ids may have gaps: look at the next existing id
        mid = (lo + hi) // 2
        row = session.execute(sa.select(table.c.id, column).where(table.c.id >= mid)
                              .order_by(table.c.id).limit(1)).one()
        if row[1] < cutoff:
            lo = row[0] + 1
        else:
            hi = row[0]
    return lo


def purge_samples(session, cutoff: datetime) -> int:
    """Delete up to BATCH meter samples received before ``cutoff``; returns how many."""
    table = MeterSampleRow.__table__
    boundary = _first_id_at_or_after(session, table, table.c.received_at, cutoff)
    if boundary is None:
        return 0
    first = session.execute(sa.select(sa.func.min(table.c.id))).scalar()
    upto = min(boundary, first + BATCH)
    return session.execute(sa.delete(table).where(table.c.id < upto)).rowcount or 0


def purge_site_load(session, cutoff: datetime) -> int:
    table = SiteLoadRow.__table__
    ids = sa.select(table.c.id).where(table.c.timestamp < cutoff).limit(BATCH)
    return session.execute(sa.delete(table).where(table.c.id.in_(ids))).rowcount or 0


def purge_control_commands(session, cutoff: datetime) -> int:
    table = CommandRow.__table__
    ids = sa.select(table.c.id).where(table.c.source == CONTROL,
                                      table.c.created_at < cutoff).limit(BATCH)
    return session.execute(sa.delete(table).where(table.c.id.in_(ids))).rowcount or 0


def prune_frames(frame_logs: dict, older_than_s: float, connected: set[str],
                 now_s: float | None = None) -> int:
    """Drop frames logged more than ``older_than_s`` wall seconds ago; forget the empty logs
    of chargers that are not connected (a connection keeps appending to its own)."""
    now_s = time.time() if now_s is None else now_s
    dropped = 0
    for charger_id in list(frame_logs):
        frames = frame_logs[charger_id]
        while frames and now_s - frames[0].at_s > older_than_s:
            frames.popleft()
            dropped += 1
        if not frames and charger_id not in connected:
            del frame_logs[charger_id]
    return dropped


async def purge_once(worker, policy: Retention, now: datetime) -> dict[str, int]:
    """One pass: every kind of row, batch after batch until none is left (each batch its own
    commit, queued behind whatever the chargers sent meanwhile)."""
    done: dict[str, int] = {}
    jobs = []
    if policy.meter_days > 0:
        cutoff = now - timedelta(days=policy.meter_days)
        jobs += [("meter_samples", purge_samples, cutoff), ("site_load", purge_site_load, cutoff)]
    if policy.control_days > 0:
        jobs.append(("control_commands", purge_control_commands,
                     now - timedelta(days=policy.control_days)))
    for name, fn, cutoff in jobs:
        total = 0
        while True:
            n = await worker.run(fn, cutoff)
            total += n
            if n < BATCH:
                break
        done[name] = total
    return done


async def run_forever(services, policy: Retention) -> None:
    """Purge every ``EVERY_S`` of CSMS time (the first pass soon after start)."""
    await asyncio.sleep(clock.current().wall_seconds(60.0))
    while True:
        try:
            done = await purge_once(services.worker, policy, clock.now())
            if policy.frames_days > 0:
                # The frame log keeps wall time: a demo day is not a day of frames.
                done["frames"] = prune_frames(services.gateway.frame_logs,
                                              policy.frames_days * 86_400.0,
                                              set(services.gateway.links))
            if any(done.values()):
                log.info("retention: deleted %s", ", ".join(f"{v} {k}" for k, v in done.items()
                                                             if v))
        except asyncio.CancelledError:
            raise
        except StoreUnavailable as exc:  # the store logs the outage itself
            log.info("retention: store unavailable (%s); trying again later", exc.cause)
        except Exception:
            log.exception("retention pass failed; trying again later")
        await asyncio.sleep(clock.current().wall_seconds(EVERY_S))
