"""Arrival profiles, site composition and a whole site against the test central system."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from simulators.arrivals import PROFILES, SITE_TZ, day_arrivals, load_profile
from simulators.clock import SimClock, parse_start
from simulators.site import ChaosConfig, Site, hardware_plan
from tests.simulators.central import running_central
from tests.simulators.helpers import FAST_BACKOFF

DAY = date(2024, 3, 5)  # a Tuesday


@pytest.mark.parametrize("name", PROFILES)
def test_arrivals_are_deterministic_and_follow_the_table(name):
    p = load_profile(name)
    a = day_arrivals(p, DAY, 400, np.random.default_rng(3))
    b = day_arrivals(p, DAY, 400, np.random.default_rng(3))
    assert a == b
    assert all(x.at.astimezone(SITE_TZ).date() == DAY for x in a)
    # The mean arrival slot matches the table's share-weighted mean slot (within 1 h).
    slots = [(x.at.astimezone(SITE_TZ).hour * 60 + x.at.astimezone(SITE_TZ).minute) / 15 for x in a]
    want = float(np.average(np.arange(96) + 0.5, weights=p.weekday_share_pct))
    assert abs(np.mean(slots) - want) < 4
    # Count ~ Poisson(rate * evses): within 5 standard deviations.
    lam = p.sessions_per_charger_weekday * 400
    assert abs(len(a) - lam) < 5 * lam ** 0.5
    if p.dwell_h_quantiles is not None:
        dwell_h = np.median([x.dwell_s / 3600 for x in a])
        assert abs(dwell_h - p.dwell_h_quantiles[50]) < 0.25 * p.dwell_h_quantiles[50] + 0.5


def test_office_arrives_in_the_morning_residential_in_the_evening():
    def share(name, lo_h, hi_h):
        a = day_arrivals(load_profile(name), DAY, 400, np.random.default_rng(1))
        hours = [x.at.astimezone(SITE_TZ).hour for x in a]
        return np.mean([lo_h <= h < hi_h for h in hours])
    assert share("office", 6, 11) > 0.5
    assert share("residential", 15, 23) > 0.5


@pytest.mark.parametrize("profile, n, want", [
    ("office", 10, {"ac11": 5, "ac22": 4, "dc50": 1}),
    ("highway", 10, {"dc150": 5, "dc350": 3, "dc50": 2}),
    ("residential", 3, {"ac7": 2, "ac11": 1}),
])
def test_hardware_plan_shares(profile, n, want):
    plan = hardware_plan(profile, n)
    assert {t: plan.count(t) for t in set(plan)} == want


def test_chaos_config_parse():
    c = ChaosConfig.parse("drop=0.1,reboot=0.01,slow=0.2,ignore=0.5")
    assert (c.drop_per_h, c.reboot_per_h, c.slow_share, c.ignore_share) == (0.1, 0.01, 0.2, 0.5)
    with pytest.raises(ValueError):
        ChaosConfig.parse("explode=1")


async def test_a_mixed_site_delivers_what_its_ledgers_say():
    async with running_central() as central:
        clock = SimClock(1800.0, parse_start("2024-03-05T07:00:00+01:00"))
        site = Site(central.url, 8, "commercial", "mixed", clock, seed=5, sessions_scale=6.0,
                    backoff=FAST_BACKOFF)
        assert {c.protocol for c in site.chargers} == {"1.6", "2.0.1"}
        await site.run(duration_s=3 * 3600)
        ledger = {e.remote_tx_id: e for c in site.chargers for e in c.ledger}
        assert len(ledger) >= 3
        done = [s for s in central.sessions.values() if s.stopped_at]
        assert done
        for s in done:
            e = ledger[s.transaction_id]
            assert (s.id_tag, int(s.meter_start_wh), int(s.meter_stop_wh)) == \
                (e.id_tag, e.meter_start_wh, e.meter_stop_wh)
        assert site.summary()["sessions"] >= len(ledger)
