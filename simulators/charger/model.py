"""Charger hardware types, EVSE state, transactions and the simulator's own session ledger."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from simulators.ev import EV, Supply


@dataclass(frozen=True)
class ChargerType:
    """Hardware: ``kind`` AC/DC, rating per EVSE, AC phases, connectors (EVSEs), V2G."""

    name: str
    kind: str
    max_power_w: float
    phases: int
    evses: int
    v2g: bool = False

    def supply(self) -> Supply:
        return Supply(self.kind, self.max_power_w, self.phases, self.v2g)


CHARGER_TYPES = {t.name: t for t in [
    ChargerType("ac7", "AC", 7_360.0, 1, 2),  # 1-phase 32 A
    ChargerType("ac11", "AC", 11_040.0, 3, 2),  # 3-phase 16 A
    ChargerType("ac22", "AC", 22_080.0, 3, 2),  # 3-phase 32 A
    ChargerType("dc50", "DC", 50_000.0, 3, 1),
    ChargerType("dc150", "DC", 150_000.0, 3, 2, v2g=True),
    ChargerType("dc350", "DC", 350_000.0, 3, 1),
]}

# 1.6 ChargePointStatus values; 2.0.1 maps them to Available/Occupied/Unavailable/Faulted.
AVAILABLE, PREPARING, CHARGING = "Available", "Preparing", "Charging"
SUSPENDED_EV, SUSPENDED_EVSE, FINISHING = "SuspendedEV", "SuspendedEVSE", "Finishing"
UNAVAILABLE, FAULTED = "Unavailable", "Faulted"


@dataclass
class Tx:
    """One transaction. ``local_id`` is the charger's own id; ``csms_id`` the id both sides use
    (2.0.1: the local id; 1.6: the integer from the StartTransaction response, as text, known
    only once the start has been delivered - possibly after an offline replay)."""

    local_id: str
    id_tag: str
    started_at: datetime
    meter_start_wh: int
    csms_id: str | None = None
    seq_no: int = 0
    stopped_at: datetime | None = None
    meter_stop_wh: int | None = None
    stop_reason: str | None = None


@dataclass
class Evse:
    id: int
    supply: Supply
    status: str = AVAILABLE
    ev: EV | None = None
    id_tag: str | None = None
    tx: Tx | None = None
    meter_wh: float = 0.0  # Energy.Active.Import.Register
    export_wh: float = 0.0  # Energy.Active.Export.Register (V2G)
    power_w: float = 0.0
    current_a: tuple[float, float, float] = (0.0, 0.0, 0.0)
    last_tick: datetime | None = None
    last_meter: datetime | None = None
    departure: datetime | None = None
    available: bool = True
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    stop_reason: str = "EVDisconnected"
    # A TxProfile that came with a remote start: installed once the transaction has its id.
    pending_profile: dict | None = None


@dataclass(frozen=True)
class Reading:
    """One sampled value, version-neutral (1.6 and 2.0.1 format it their way)."""

    measurand: str
    value: float
    unit: str
    phase: str | None = None
    location: str | None = None


def readings(evse: Evse, context: str) -> list[Reading]:
    """What the EVSE's meter reports: the energy register always; when periodic also power and,
    on AC, per-phase current and the phase voltage; on DC the outlet's DC current and voltage
    and the car's state of charge (a DC charger talks to the car; an AC one cannot know SoC)."""
    out = [Reading("Energy.Active.Import.Register", float(int(evse.meter_wh)), "Wh",
                   location="Outlet")]
    if context != "Sample.Periodic":
        return out
    out.append(Reading("Power.Active.Import", round(max(0.0, evse.power_w), 1), "W"))
    if evse.supply.kind == "AC":
        for i, phase in enumerate(("L1", "L2", "L3")):
            if evse.current_a[i] > 0 or i == 0:
                out.append(Reading("Current.Import", round(max(0.0, evse.current_a[i]), 1), "A",
                                   phase))
        out.append(Reading("Voltage", 230.0, "V", "L1-N"))
        return out
    dc_v = evse.ev.spec.dc_voltage_v if evse.ev is not None else 0.0
    dc_a = max(0.0, evse.power_w) / dc_v if dc_v > 0 else 0.0
    out.append(Reading("Current.Import", round(dc_a, 1), "A", location="Outlet"))
    out.append(Reading("Voltage", round(dc_v, 1), "V", location="Outlet"))
    if evse.ev is not None:
        out.append(Reading("SoC", round(evse.ev.soc_pct, 1), "Percent", location="EV"))
    return out


@dataclass
class LedgerEntry:
    """What the simulator itself knows happened: the reference the CSMS must match."""

    charger_id: str
    evse_id: int
    id_tag: str
    local_tx_id: str
    started_at: datetime
    meter_start_wh: int
    stopped_at: datetime | None = None
    meter_stop_wh: int | None = None
    stop_reason: str | None = None
    remote_tx_id: str | None = None

    @property
    def energy_wh(self) -> int | None:
        return None if self.meter_stop_wh is None else self.meter_stop_wh - self.meter_start_wh


@dataclass
class Faults:
    """Fault injection switches of one charger."""

    answer_delay_s: float = 0.0  # wall seconds before answering any CSMS request
    ignore_limits: bool = False  # accept profiles but draw as if none were installed
