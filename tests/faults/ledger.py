"""A charger's own record of what it sent, checked against the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from csms.store.tables import MeterSampleRow, SessionRow

REGISTER = "Energy.Active.Import.Register"


@dataclass
class Ledger:
    """What one charger sent: its transactions' energies and its distinct register readings."""

    charger_id: str
    energy_wh: dict[str, float] = field(default_factory=dict)  # transaction -> energy
    readings: set[tuple[datetime, float]] = field(default_factory=set)

    def check(self, engine) -> None:
        with Session(engine) as s:
            sessions = s.exec(select(SessionRow).where(
                SessionRow.charger_id == self.charger_id)).all()
            stored = {row.transaction_ref: row.energy_wh for row in sessions}
            active = [row.transaction_ref for row in sessions if row.active]
            samples = s.exec(select(MeterSampleRow.timestamp, MeterSampleRow.value).where(
                MeterSampleRow.charger_id == self.charger_id,
                MeterSampleRow.measurand == REGISTER)).all()
        assert stored == self.energy_wh  # none lost, none doubled, the right energy
        assert not active
        assert len(samples) == len(self.readings)  # each reading stored exactly once
        assert {(at, value) for at, value in samples} == self.readings
