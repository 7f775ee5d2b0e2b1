"""Profile store rules and the composite schedule, for OCPP 1.6 and 2.0.1 (table-driven)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.smart.composite import Limit, composite_schedule, limit_at
from simulators.smart.profiles import (
    MAX,
    TX,
    TX_DEFAULT,
    Period,
    Profile,
    ProfileStore,
    Rules,
    Schedule,
    from_v16,
    from_v201,
)

T0 = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)


def prof(pid, purpose, stack, periods, unit="A", evse=1, kind="Absolute", start=T0,
         duration=None, valid_from=None, valid_to=None, recurrency=None, tx=None, phases=None):
    per = tuple(Period(s, lim, phases) for s, lim in periods)
    return Profile(pid, evse, stack, purpose, kind, Schedule(unit, per, start, duration),
                   recurrency, valid_from, valid_to, tx, installed_at=T0)


# Each case: profiles, evse, window start, duration, unit, hardware, tx_start, expected periods
# (offset s, limit); the expectations are worked out by hand from the rules in composite.py.
CASES = {
    # CTT TC_072_CS set-up: TxDefault stack 0 (6/8/10 A at 0/100/200 s, 400 s) under a
    # TxDefault stack 1 that lasts 150 s (limit chosen here: 7 A). Stack 1 wins while it lasts,
    # then stack 0 shows through.
    "tc072 stacking": (
        [prof(1, TX_DEFAULT, 0, [(0, 6), (100, 8), (200, 10)], duration=400),
         prof(2, TX_DEFAULT, 1, [(0, 7)], duration=150)],
        1, T0, 400, "A", None, None, [(0, 7), (150, 8), (200, 10)]),
    # CTT TC_066_CS set-up: ChargePointMaxProfile 10 A on connector 0 caps everything; a
    # TxProfile (8 A then 12 A, 300 s) overrides the TxDefault (16 A) while it lasts.
    "tc066 max caps tx and default": (
        [prof(1, MAX, 0, [(0, 10)], evse=0, duration=86400),
         prof(2, TX_DEFAULT, 0, [(0, 16)]),
         prof(3, TX, 0, [(0, 8), (100, 12)], duration=300, tx="7")],
        1, T0, 600, "A", None, T0, [(0, 8), (100, 10)]),
    # 1.6 spec 3.13.4-style daily recurring TxDefault: 32 A, 16 A from 08:00, 32 A from 18:00.
    "daily recurring": (
        [prof(1, TX_DEFAULT, 0, [(0, 32), (8 * 3600, 16), (18 * 3600, 32)], kind="Recurring",
              recurrency="Daily", start=datetime(2024, 1, 1, tzinfo=UTC))],
        1, datetime(2024, 3, 5, 7, 0, tzinfo=UTC), 4 * 3600, "A", None, None,
        [(0, 32), (3600, 16)]),
    "weekly recurring crosses the week boundary": (
        [prof(1, TX_DEFAULT, 0, [(0, 10), (6 * 86400, 20)], kind="Recurring",
              recurrency="Weekly", start=datetime(2024, 1, 1, tzinfo=UTC))],  # a Monday
        1, datetime(2024, 3, 10, 23, 0, tzinfo=UTC), 7200, "A", None, None,  # Sunday 23:00
        [(0, 20), (3600, 10)]),
    "relative to the transaction start": (
        [prof(1, TX, 0, [(0, 10), (120, 20)], kind="Relative", start=None, tx="9")],
        1, T0, 300, "A", None, T0 - timedelta(seconds=60), [(0, 10), (60, 20)]),
    "validTo ends a higher stack": (
        [prof(1, TX_DEFAULT, 1, [(0, 6)], valid_to=T0 + timedelta(seconds=300)),
         prof(2, TX_DEFAULT, 0, [(0, 20)])],
        1, T0, 600, "A", None, None, [(0, 6), (300, 20)]),
    "validFrom starts later": (
        [prof(1, TX_DEFAULT, 1, [(0, 6)], valid_from=T0 + timedelta(seconds=60), start=T0),
         prof(2, TX_DEFAULT, 0, [(0, 20)])],
        1, T0, 600, "A", None, None, [(0, 20), (60, 6)]),
    "W profile reported in A (11000 W / 690 V)": (
        [prof(1, MAX, 0, [(0, 11000)], unit="W", evse=0), prof(2, TX_DEFAULT, 0, [(0, 32)])],
        1, T0, 60, "A", None, None, [(0, 15.9)]),
    "A profile on one phase reported in W": (
        [prof(1, TX_DEFAULT, 0, [(0, 16)], phases=1)],
        1, T0, 60, "W", None, None, [(0, 3680.0)]),
    "hardware rating when no profile": ([], 1, T0, 60, "A", Limit(32, "A", 3), None, [(0, 32)]),
    "connector profile beats connector 0 at the same stack level": (
        [prof(1, TX_DEFAULT, 0, [(0, 10)], evse=0), prof(2, TX_DEFAULT, 0, [(0, 20)], evse=1)],
        1, T0, 60, "A", None, None, [(0, 20)]),
    "higher stack on connector 0 still wins": (
        [prof(1, TX_DEFAULT, 2, [(0, 10)], evse=0), prof(2, TX_DEFAULT, 0, [(0, 20)], evse=1)],
        1, T0, 60, "A", None, None, [(0, 10)]),
    "no transaction: TxProfile ignored": (
        [prof(1, TX, 0, [(0, 6)], tx="1"), prof(2, TX_DEFAULT, 0, [(0, 12)])],
        1, T0, 60, "A", None, None, [(0, 12)]),
    "charger-wide composite (evse 0) is the max profile": (
        [prof(1, MAX, 0, [(0, 40000)], unit="W", evse=0), prof(2, TX_DEFAULT, 0, [(0, 6)])],
        0, T0, 60, "W", None, None, [(0, 40000)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_composite_schedule(name):
    profiles, evse, start, duration, unit, hw, tx_start, expected = CASES[name]
    got = composite_schedule(profiles, start, duration, evse, unit, hw, tx_start)
    assert [(o, v) for o, v, _ in got] == expected


def test_limit_at_matches_the_schedule_everywhere():
    profiles, evse, start, duration, unit, hw, tx_start, expected = CASES["tc066 max caps tx and default"]
    for offset_s in range(0, duration, 25):
        lim = limit_at(profiles, start + timedelta(seconds=offset_s), evse, unit, hw, tx_start)
        want = [v for o, v in expected if o <= offset_s][-1]
        assert lim.value == want


def store(version, **kw):
    return ProfileStore(Rules(version, **kw))


def v16(pid, purpose, connector, stack=0, unit="A", tx=None):
    payload = {"charging_profile_id": pid, "stack_level": stack,
               "charging_profile_purpose": purpose, "charging_profile_kind": "Absolute",
               "charging_schedule": {"charging_rate_unit": unit, "start_schedule": "2024-03-05T10:00:00Z",
                                     "charging_schedule_period": [{"start_period": 0, "limit": 16.0}]}}
    if tx is not None:
        payload["transaction_id"] = tx
    return from_v16(connector, payload, T0)


def v201(pid, purpose, evse, stack=0, unit="A", tx=None):
    payload = {"id": pid, "stack_level": stack, "charging_profile_purpose": purpose,
               "charging_profile_kind": "Absolute",
               "charging_schedule": [{"id": 1, "charging_rate_unit": unit,
                                      "start_schedule": "2024-03-05T10:00:00Z",
                                      "charging_schedule_period": [{"start_period": 0, "limit": 16.0}]}]}
    if tx is not None:
        payload["transaction_id"] = tx
    return from_v201(evse, payload, T0)


# (version, already installed, new profile, active transactions, accepted, profiles after)
RULES = {
    "1.6 max only on connector 0": ("1.6", [], v16(1, "ChargePointMaxProfile", 1), {}, False, 0),
    "1.6 max on connector 0": ("1.6", [], v16(1, "ChargePointMaxProfile", 0), {}, True, 1),
    "1.6 TxProfile without a transaction": ("1.6", [], v16(1, "TxProfile", 1), {}, False, 0),
    "1.6 TxProfile for another transaction": ("1.6", [], v16(1, "TxProfile", 1, tx=5), {1: "6"}, False, 0),
    "1.6 TxProfile on the ongoing transaction": ("1.6", [], v16(1, "TxProfile", 1), {1: "6"}, True, 1),
    "1.6 same stack and purpose replaces": (
        "1.6", [v16(1, "TxDefaultProfile", 1)], v16(2, "TxDefaultProfile", 1), {}, True, 1),
    "1.6 same id replaces": (
        "1.6", [v16(1, "TxDefaultProfile", 1)], v16(1, "TxDefaultProfile", 1, stack=3), {}, True, 1),
    "1.6 stack level above the maximum": ("1.6", [], v16(1, "TxDefaultProfile", 1, stack=9), {}, False, 0),
    "1.6 unit W on an A-only charger": ("1.6", [], v16(1, "TxDefaultProfile", 1, unit="W"), {}, False, 0),
    "2.0.1 duplicate stack and purpose": (
        "2.0.1", [v201(1, "TxDefaultProfile", 1)], v201(2, "TxDefaultProfile", 1), {}, False, 1),
    "2.0.1 same id replaces": (
        "2.0.1", [v201(1, "TxDefaultProfile", 1)], v201(1, "TxDefaultProfile", 1), {}, True, 1),
    "2.0.1 other stack level coexists": (
        "2.0.1", [v201(1, "TxDefaultProfile", 1)], v201(2, "TxDefaultProfile", 1, stack=1), {}, True, 2),
    "2.0.1 TxProfile needs the transactionId": ("2.0.1", [], v201(1, "TxProfile", 1), {1: "abc"}, False, 0),
    "2.0.1 TxProfile with its transaction": ("2.0.1", [], v201(1, "TxProfile", 1, tx="abc"), {1: "abc"}, True, 1),
    "2.0.1 station max not on an EVSE": ("2.0.1", [], v201(1, "ChargingStationMaxProfile", 1), {}, False, 0),
    "2.0.1 external constraints are not for the CSMS": (
        "2.0.1", [], v201(1, "ChargingStationExternalConstraints", 0), {}, False, 0),
}


@pytest.mark.parametrize("name", list(RULES))
def test_install_rules(name):
    version, installed, new, active_tx, accepted, count = RULES[name]
    s = store(version, allowed_units=("A",))
    for p in installed:
        assert s.install(p, active_tx)[0]
    ok, reason = s.install(new, active_tx)
    assert ok is accepted, reason
    assert len(s.profiles) == count


def test_tx_profiles_end_with_the_transaction_and_clear_filters():
    s = store("1.6")
    s.install(v16(1, "TxProfile", 1), {1: "6"})
    s.install(v16(2, "TxDefaultProfile", 1), {1: "6"})
    s.install(v16(3, "ChargePointMaxProfile", 0), {})
    s.end_transaction(1)
    assert sorted(p.id for p in s.profiles) == [2, 3]
    assert s.clear(purpose=MAX) == 1
    assert s.clear(profile_id=2) == 1 and s.profiles == []


limits = st.floats(0, 64).map(lambda x: round(x, 1))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([MAX, TX_DEFAULT, TX]), st.integers(0, 3), limits,
                          st.integers(0, 600), st.integers(1, 900)), max_size=6),
       st.integers(0, 1200))
def test_composite_never_exceeds_an_active_max_profile(specs, probe_s):
    profiles = [prof(i, purpose, stack, [(0, lim)], evse=0 if purpose == MAX else 1,
                     start=T0 + timedelta(seconds=off), duration=dur, tx="1")
                for i, (purpose, stack, lim, off, dur) in enumerate(specs)]
    t = T0 + timedelta(seconds=probe_s)
    lim = limit_at(profiles, t, 1, "A", Limit(32, "A", 3), tx_start=T0, tx_id="1")
    assert lim is not None and lim.value <= 32
    active_max = [p.schedule.periods[0].limit for p in profiles if p.purpose == MAX
                  and p.schedule.start <= t < p.schedule.start + timedelta(seconds=p.schedule.duration_s)]
    if active_max:
        # The highest-stack active max profile applies, so the result is at most one of them.
        assert any(lim.value <= m for m in active_max)
    sched = composite_schedule(profiles, T0, 1200, 1, "A", Limit(32, "A", 3), T0, "1")
    at_probe = [v for o, v, _ in sched if o <= probe_s][-1]
    assert at_probe == round(lim.value, 1)
