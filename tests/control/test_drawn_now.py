"""The site's EV draw now, as the loop's day peak counts it (the peak-shaving floor and the
now-first bound): readings a meter interval apart are not summed as if one moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from csms.control.loop import drawn_now_w
from csms.sites.snapshot import EvseSession

NOW = datetime(2026, 6, 16, 9, 0, tzinfo=UTC)


def _car(i: int, measured_w: float | None, limit_w: float | None,
         obeying: bool = True) -> EvseSession:
    return EvseSession(
        charger_id=f"C{i}", evse_id=1, session_id=i, transaction_ref=f"t{i}", ac=True,
        phases=3, max_w=22_080.0, started_at=NOW - timedelta(hours=1), energy_wh=0.0,
        requested_wh=20_000.0, departure=NOW + timedelta(hours=3), needs_source="default",
        measured_w=measured_w, measured_at=NOW - timedelta(seconds=50), obeying=obeying,
        limit_w=limit_w)


def test_a_reading_from_before_a_lowered_limit_counts_at_that_limit():
    # Car 0 read 11 kW, then its limit went to 4.14 kW; car 1 read 11 kW under a raised limit.
    # At no moment did both draw 11 kW: 22 kW is a moment that never was.
    cars = [_car(0, 11_000.0, 4_140.0), _car(1, 11_000.0, 11_040.0)]
    assert drawn_now_w(cars) == pytest.approx(15_140.0)


def test_a_reading_under_a_raised_limit_counts_as_read():
    assert drawn_now_w([_car(0, 4_100.0, 11_040.0)]) == pytest.approx(4_100.0)


def test_a_car_that_does_not_obey_counts_at_what_it_draws():
    assert drawn_now_w([_car(0, 11_000.0, 4_140.0, obeying=False)]) == pytest.approx(11_000.0)


def test_no_reading_or_no_limit():
    assert drawn_now_w([_car(0, None, 4_140.0), _car(1, 7_000.0, None)]) == pytest.approx(7_000.0)
