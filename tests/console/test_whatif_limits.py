"""The console's what-if shows exactly the limits the control loop sends (issue 13)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from csms.domain import electrical
from csms.ocpp import profiles as pf
from csms.web.console import profiles as console_profiles
from csms.web.console import whatif

POWERS_KW = [0.0, 0.5, 1.0, 1.379, 1.38, 1.3801, 3.3333, 4.139, 4.14, 7.0, 7.4, 11.0, 16.0,
             21.99, 22.0, 43.47, 50.0, 150.0]
CASES = [(p, phases, dc) for p in POWERS_KW for phases, dc in ((1, False), (3, False),
                                                                (3, True), (1, True))]


def _sent(power_w: float, phases: int, rate_units: tuple[str, ...], protocol: str
          ) -> tuple[str, dict]:
    """The first period of the TxProfile the loop builds for ``power_w``."""
    caps = pf.Capabilities(protocol=protocol, rate_units=rate_units)
    _, payload = pf.set_profile_request(
        pf.LimitProfile(purpose=pf.TX, evse_id=1, periods=((0, power_w),), phases=phases,
                        transaction_id="7"), caps)
    profile = payload.get("csChargingProfiles") or payload["chargingProfile"]
    schedule = profile["chargingSchedule"]
    schedule = schedule[0] if isinstance(schedule, list) else schedule
    return schedule["chargingRateUnit"], schedule["chargingSchedulePeriod"][0]


@pytest.mark.parametrize("protocol", ["1.6", "2.0.1", "2.1"])
def test_whatif_limits_equal_the_set_charging_profile(protocol):
    power_kw = np.array([c[0] for c in CASES])
    phases = np.array([c[1] for c in CASES])
    dc = np.array([c[2] for c in CASES])
    shown = whatif.displayed_limits(power_kw, phases, dc)
    for i, (p_kw, n, is_dc) in enumerate(CASES):
        loop_phases = 0 if is_dc else n  # the loop's EVSE phases: 0 for DC
        for units in (("A", "W"), ("A",), ("W",)):
            unit, period = _sent(p_kw * 1000.0, loop_phases, units, protocol)
            expected = shown.current_a[i] if unit == "A" else shown.power_w[i]
            assert period["limit"] == expected, (p_kw, n, is_dc, units)
            # and the console reads the installed limit back as the power it allows
            back = console_profiles.periods(
                {"csChargingProfiles": {"chargingSchedule": {
                    "chargingRateUnit": unit, "chargingSchedulePeriod": [period]}}},
                sent_at=datetime(2026, 1, 1))[0].limit_w
            assert back == pytest.approx(
                electrical.limit_power_w(period["limit"], unit, loop_phases))
        assert shown.applied_kw[i] * 1000.0 <= p_kw * 1000.0 + 1e-9


def test_whatif_discharge_equals_the_2_1_setpoint():
    power_kw = np.array([-7.0, -1.0, -11.0, -50.0])
    phases = np.array([1, 1, 3, 3])
    dc = np.array([False, False, False, True])
    shown = whatif.displayed_limits(power_kw, phases, dc)
    for i in range(len(power_kw)):
        loop_phases = 0 if dc[i] else int(phases[i])
        for units in (("A", "W"), ("W",)):
            unit, period = _sent(power_kw[i] * 1000.0, loop_phases, units, "2.1")
            expected = shown.current_a[i] if unit == "A" else shown.power_w[i]
            assert period.get("setpoint", 0.0) == expected
            assert period["limit"] == 0.0


def test_one_home_for_the_electrical_constants():
    assert electrical.VOLTAGE_V is electrical.VOLTAGE_V
    assert electrical.MIN_AC_CURRENT_A == electrical.MIN_AC_CURRENT_A == 6.0
    assert electrical.MIN_DC_POWER_W is electrical.MIN_DC_POWER_W
    assert electrical.to_limit is electrical.to_limit
    assert electrical.limit_power_w is electrical.limit_power_w


def test_no_copy_of_the_constants_outside_their_home():
    """VOLTAGE_V, the 6 A minimum and the DC minimum are defined once; no 230 V literal."""
    root = Path(electrical.__file__).parents[1]
    home = Path(electrical.__file__)
    defines = re.compile(r"^\s*(VOLTAGE_V|MIN_AC_CURRENT_A|MIN_CURRENT_A|MIN_DC_POWER_W)\s*=",
                         re.M)
    literal = re.compile(r"^[^#\n]*[*/]\s*230(\.0)?\b|^[^#\n]*\b230(\.0)?\s*\*", re.M)
    offenders = [str(f.relative_to(root)) for f in root.rglob("*.py") if f != home
                 and (defines.search(f.read_text()) or literal.search(f.read_text()))]
    assert offenders == []
