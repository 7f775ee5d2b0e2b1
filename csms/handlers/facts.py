"""Learning what a charger is (``csms.domain.charger_facts``) into its registry row.

The operator's values are never overwritten; a reported fact replaces a measured one; a
measured rating only ever raises the rating in use (a car drawing 7 kW says nothing about a
22 kW EVSE, a 60 kW draw proves a 50 kW default wrong).
"""

from __future__ import annotations

import logging

from sqlmodel import Session

from csms.domain.charger_facts import (
    MEASURED,
    TRUST,
    ChargerFacts,
    default_rating_w,
    from_samples,
)
from csms.store.tables import ChargerRow

log = logging.getLogger(__name__)


def rating_w(row: ChargerRow) -> float:
    """The rating in use for each of the charger's EVSEs (the default of its kind if unknown)."""
    return row.max_power_w or default_rating_w(row.charger_type)


def learn(session: Session, charger_id: str, facts: ChargerFacts, source: str) -> bool:
    """Store what ``facts`` add at ``source``'s trust; returns whether anything changed."""
    row = session.get(ChargerRow, charger_id)
    if row is None or facts.empty:
        return False
    before = (row.charger_type, row.max_power_w, row.connector_type, row.supply_phases,
              row.phase_wiring)
    trust = TRUST[source]
    if facts.kind and trust >= TRUST[row.charger_type_source] and row.charger_type != facts.kind:
        row.charger_type, row.charger_type_source = facts.kind, source
    if facts.max_power_w and trust >= TRUST[row.max_power_source]:
        if source != MEASURED or facts.max_power_w > rating_w(row) * 1.02:
            row.max_power_w, row.max_power_source = float(facts.max_power_w), source
    if source != MEASURED:
        if facts.connector_type:
            row.connector_type = facts.connector_type
        if facts.supply_phases is not None:
            row.supply_phases = facts.supply_phases
        if facts.phase_wiring and trust >= TRUST[row.phase_wiring_source]:
            row.phase_wiring, row.phase_wiring_source = facts.phase_wiring, source
    after = (row.charger_type, row.max_power_w, row.connector_type, row.supply_phases,
             row.phase_wiring)
    if after != before:
        log.info("%s: learned %s (%s): type %s, rating %s W, connector %s, phases %s, "
                 "wiring %s",
                 charger_id, source, "was " + str(before), *after)
    return after != before


class SampleFacts:
    """Meter values -> facts, going to the registry only when a message shows more than the
    charger's earlier ones did (most messages say nothing new: no query)."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[bool, float]] = {}  # charger -> (DC seen, largest draw W)

    def observe(self, session: Session, charger_id: str, samples) -> None:
        facts = from_samples(samples)
        dc_seen, max_seen = self._seen.get(charger_id, (False, 0.0))
        dc = facts.kind == "DC"
        draw_w = facts.max_power_w or 0.0
        if (dc and not dc_seen) or draw_w > max_seen * 1.02:
            self._seen[charger_id] = (dc_seen or dc, max(max_seen, draw_w))
            learn(session, charger_id, facts, MEASURED)
