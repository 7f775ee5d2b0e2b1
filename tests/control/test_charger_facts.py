"""What a charger is (AC/DC, rating, phases, wiring, connector), from what it reports and
measures, and who wins when sources disagree."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from csms.domain.charger_facts import (
    MEASURED,
    OPERATOR,
    REPORTED,
    ChargerFacts,
    charger_class,
    from_samples,
    wiring_of_rotation,
)
from csms.domain.model import MeterSample
from csms.handlers.facts import learn
from csms.ocpp import profiles as pf
from csms.sites import service as sites
from csms.store.db import create_engine
from csms.store.tables import ChargerRow

T = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("rotation, wiring", [
    ("RST", "L1L2L3"), ("STR", "L2L3L1"), ("TRS", "L3L1L2"), ("Sxx", "L2"), ("Txx", "L3"),
    ("RTS", None),  # reverse order: the site model has no name for it
    ("NotApplicable", None), ("Unknown", None), ("", None), (None, None), ("RRS", None),
    ("xSx", None),
])
def test_wiring_of_rotation(rotation, wiring):
    assert wiring_of_rotation(rotation) == wiring


def test_16_configuration_tells_three_phase_ac_and_its_rotation():
    answer = {"configurationKey": [{"key": "ConnectorPhaseRotation",
                                    "value": "0.NotApplicable,1.STR,2.STR"}]}
    facts = pf.probe_facts("1.6", answer)
    assert (facts.kind, facts.supply_phases, facts.phase_wiring) == ("AC", 3, "L2L3L1")
    # One-phase and DC chargers say NotApplicable (1.6 section 9.1): nothing is learned.
    assert pf.probe_facts("1.6", {"configurationKey": [
        {"key": "ConnectorPhaseRotation", "value": "1.NotApplicable"}]}).empty


def _variable(name: str, value: str, status: str = "Accepted") -> dict:
    return {"attributeStatus": status, "attributeValue": value,
            "component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": name}}


def test_201_device_model_facts():
    dc = pf.device_model_facts({"getVariableResult": [
        _variable("Power", "150000"), _variable("SupplyPhases", "0"),
        _variable("ConnectorType", "cCCS2")]})
    assert (dc.kind, dc.max_power_w, dc.connector_type) == ("DC", 150_000.0, "cCCS2")
    assert charger_class(dc.kind, dc.max_power_w) == "dc_ultra"
    ac = pf.device_model_facts({"getVariableResult": [
        _variable("Power", "7360"), _variable("SupplyPhases", "1"),
        _variable("PhaseRotation", "Txx"), _variable("ConnectorType", "sType2"),
        _variable("Power", "x", "UnknownVariable")]})
    assert (ac.kind, ac.max_power_w, ac.supply_phases, ac.phase_wiring) == \
        ("AC", 7360.0, 1, "L3")
    # The request asks every variable the parser reads, per EVSE (connector 1 for its type).
    action, payload = pf.device_model_request([1, 2])
    names = {(d["component"]["evse"]["id"], d["variable"]["name"])
             for d in payload["getVariableData"]}
    assert action == "GetVariables" and (2, "PhaseRotation") in names
    assert len(payload["getVariableData"]) == 2 * len(pf.DEVICE_MODEL)


def test_meter_values_prove_dc_and_raise_the_rating():
    dc = from_samples([MeterSample(T, "SoC", 40.0, "Percent", location="EV"),
                       MeterSample(T, "Power.Active.Import", 48_500.0, "W")])  # edge: kW -> W
    assert (dc.kind, dc.max_power_w) == ("DC", 48_500.0)
    ac = from_samples([MeterSample(T, "SoC", 40.0, "Percent", location="EV"),
                       MeterSample(T, "Current.Import", 16.0, "A", phase="L1"),
                       MeterSample(T, "Power.Active.Import", 11_000.0, "W")])
    assert ac.kind is None and ac.max_power_w == 11_000.0  # an AC draw says nothing of kind


@pytest.mark.store
def test_learning_keeps_the_operators_word(database_url):
    engine = create_engine(database_url)
    with Session(engine) as s:
        s.add(ChargerRow(id="F-1", registered_at=T))
        s.flush()
        # Reported facts fill an unknown charger.
        assert learn(s, "F-1", ChargerFacts(max_power_w=22_080.0, supply_phases=3,
                                            phase_wiring="L2L3L1"), REPORTED)
        row = s.get(ChargerRow, "F-1")
        assert (row.charger_type, row.max_power_w, row.phase_wiring) == ("AC", 22_080.0,
                                                                          "L2L3L1")
        assert row.phase_wiring_source == REPORTED
        # A measured draw only raises the rating, never lowers it.
        assert not learn(s, "F-1", ChargerFacts(max_power_w=7_000.0), MEASURED)
        assert row.max_power_w == 22_080.0
        # The operator's word is kept against anything the charger says afterwards.
        sites.assign_charger(s, None, "F-1", T, phase_wiring="L3", max_power_w=7_360.0,
                             charger_type="AC")
        learn(s, "F-1", ChargerFacts("DC", 50_000.0, 0, "cCCS2", "L1L2L3"), REPORTED)
        learn(s, "F-1", ChargerFacts(max_power_w=60_000.0), MEASURED)
        assert (row.charger_type, row.max_power_w, row.phase_wiring) == ("AC", 7_360.0, "L3")
        assert (row.charger_type_source, row.max_power_source, row.phase_wiring_source) == \
            (OPERATOR, OPERATOR, OPERATOR)
