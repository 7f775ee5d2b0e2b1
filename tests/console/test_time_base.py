"""One time base per page, stated (issue 13): every page says its times are the site's local
time, with the zone's offset that day; the clock module maps wall-stamped events (the message
log) onto the CSMS's time base."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from csms import clock

pytestmark = pytest.mark.store


@pytest.mark.parametrize("now, offset", [
    (datetime(2026, 6, 16, 10, 0, tzinfo=UTC), "UTC+01:00"),
    (datetime(2026, 2, 25, 10, 0, tzinfo=UTC), "UTC+00:00"),  # Ramadan 2026: Morocco at +0
])
async def test_every_page_states_its_time_base(services, client_for, now, offset):
    clock.configure(speed=1e-9, start=now)
    try:
        viewer = await client_for("viewer")
        for path in ("/", "/chargers", "/sessions", "/grid", "/costs", "/smart-charging"):
            page = (await viewer.get(path)).text
            assert (f'data-testid="time-base">All times: Africa/Casablanca ({offset}), the '
                    "site&#39;s local time") in page, (path, page[-800:])
    finally:
        clock.configure()


def test_wall_stamped_events_on_the_csms_time_base():
    start = datetime(2026, 6, 16, 10, 0, tzinfo=UTC)
    clock.configure(speed=60.0, start=start)
    try:
        two_s_ago = time.time() - 2.0
        shown = clock.at_wall(two_s_ago)
        assert abs((clock.now() - shown) - timedelta(seconds=120)) < timedelta(seconds=2)
    finally:
        clock.configure()
