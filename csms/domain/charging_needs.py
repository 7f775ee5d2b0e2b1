"""What an EV says it needs (ISO 15118 through OCPP 2.0.1 / 2.1 NotifyEVChargingNeeds), as a
version-neutral fact with units in the names.

The OCPP adapters (csms/ocpp/charging_needs.py) parse the message once into ``ChargingNeeds``;
the store keeps ``as_json()`` (snake_case) in the ``charger_events`` row and the application
layer reads it back with ``from_json``. Every part the EV may omit is None.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ChargingNeeds:
    # The energy transfer mode the EV asked for, as named by ISO 15118 / OCPP (AC_single_phase,
    # AC_three_phase, DC, AC_BPT, DC_BPT, ...), and the ones it can do (2.1).
    requested_transfer: str | None = None
    available_transfers: tuple[str, ...] = ()
    departure: datetime | None = None  # aware UTC, on the charger's clock
    energy_wh: float | None = None  # energy the EV asks for (AC or DC parameters)
    # AC: the EV's current limits per phase and how many phases its transfer mode uses.
    ac_phases: int | None = None
    ac_min_current_a: float | None = None
    ac_max_current_a: float | None = None
    ac_max_voltage_v: float | None = None
    # DC: the EV's limits and its battery.
    dc_max_power_w: float | None = None
    dc_max_current_a: float | None = None
    dc_max_voltage_v: float | None = None
    capacity_wh: float | None = None
    soc_pct: float | None = None
    # V2X (2.1): may the EV discharge (a bidirectional transfer mode), how fast, and the energy
    # requests relative to its state of charge when it sent the message (negative: energy the
    # battery holds above that level).
    bidirectional: bool = False
    max_discharge_w: float | None = None
    min_v2x_energy_wh: float | None = None
    target_energy_wh: float | None = None
    target_soc_pct: float | None = None

    def as_json(self) -> dict:
        """The fact as stored: snake_case JSON, the departure in ISO 8601."""
        out = asdict(self)
        out["available_transfers"] = list(self.available_transfers)
        out["departure"] = None if self.departure is None else self.departure.isoformat()
        return out

    @classmethod
    def from_json(cls, data: dict) -> ChargingNeeds:
        """The fact from ``as_json()``; keys it does not know are ignored."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["available_transfers"] = tuple(values.get("available_transfers") or ())
        if values.get("departure"):
            values["departure"] = datetime.fromisoformat(values["departure"])
        return cls(**values)
