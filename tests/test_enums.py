"""The StrEnums of issue 13 keep the strings stored and served before them."""

from __future__ import annotations

import json

from csms.charging import POLICIES
from csms.domain.model import CommandState, Policy, ProfilePurpose, Protocol
from csms.ocpp import profiles as pf


def test_values_are_the_stored_strings():
    assert list(POLICIES) == ["uncontrolled", "load_balancing", "peak_shaving",
                              "valley_filling", "price_optimization", "grid_support",
                              "renewable_integration"]
    assert {s.value for s in CommandState} == {"queued", "sent", "accepted", "rejected",
                                               "error", "timeout", "offline", "unknown",
                                               "cancelled"}
    assert (pf.MAX, pf.TX_DEFAULT, pf.TX) == ("max", "tx_default", "tx")
    assert [p.value for p in Protocol] == ["1.6", "2.0.1", "2.1"]
    assert pf.V2X_PROTOCOLS == {"2.1"}


def test_members_serialise_and_compare_as_their_strings():
    row = {"state": CommandState.ACCEPTED, "purpose": ProfilePurpose.TX,
           "policy": Policy.PEAK_SHAVING}
    assert json.dumps(row) == '{"state": "accepted", "purpose": "tx", "policy": "peak_shaving"}'
    assert f"{CommandState.SENT}" == "sent" and str(Policy.UNCONTROLLED) == "uncontrolled"
    assert {("c1", "tx", "7"): 1}[("c1", ProfilePurpose.TX, "7")] == 1
    assert "peak_shaving" in POLICIES
