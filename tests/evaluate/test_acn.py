"""ACN-Data CSV import: wall-clock move to the site, first-come charger assignment."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from csms.evaluate.acn import acn_scenario

HEADER = ("arrival,departure,requested_energy (kWh),delivered_energy (kWh),station_id,"
          "session_id,estimated_departure,claimed\n")


def write(tmp_path: Path, rows: list[tuple[str, str, float]]) -> Path:
    path = tmp_path / "s.csv"
    lines = ["# comment line\n", HEADER]
    for n, (a, d, e) in enumerate(rows):
        lines.append(f"2019-10-07 {a}-07:00,2019-10-07 {d}-07:00,10.0,{e},CA-1,id{n},,True\n")
    path.write_text("".join(lines))
    return path


def test_wall_clock_is_kept_in_the_site_time_zone(tmp_path):
    sc = acn_scenario(write(tmp_path, [("08:17:06", "17:27:10", 12.5)]), chargers=1)
    s = sc.sessions[0]
    local = s.arrival.astimezone(ZoneInfo("Africa/Casablanca"))
    assert (local.hour, local.minute) == (8, 17)
    assert s.energy_kwh == 12.5
    assert sc.start == datetime(2019, 10, 7, tzinfo=ZoneInfo("Africa/Casablanca"))
    assert sc.periods == 96


@pytest.mark.parametrize(("chargers", "kept", "away"), [(1, 2, 2), (2, 3, 1), (3, 4, 0)])
def test_first_come_first_served_chargers(tmp_path, chargers, kept, away):
    rows = [("08:00:00", "12:00:00", 5.0), ("09:00:00", "13:00:00", 5.0),
            ("10:00:00", "11:00:00", 5.0), ("12:30:00", "14:00:00", 5.0)]
    sc = acn_scenario(write(tmp_path, rows), chargers=chargers)
    assert len(sc.sessions) == kept
    assert sc.extra["turned_away"] == away


def test_zero_energy_sessions_are_skipped(tmp_path):
    sc = acn_scenario(write(tmp_path, [("08:00:00", "09:00:00", 0.0),
                                       ("08:00:00", "09:00:00", 1.0)]), chargers=5)
    assert len(sc.sessions) == 1
