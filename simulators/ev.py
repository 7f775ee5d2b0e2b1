"""EV physics: state of charge integrated per step under the charger's AC or DC limit.

Pure code, no clock. Conventions: grid-side power is what the charger's meter sees (positive =
import); battery-side power is what reaches (or leaves) the cells. Efficiency is the ratio.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulators.vehicles import VehicleSpec

PHASE_VOLTAGE_V = 230.0
MIN_AC_CURRENT_A = 6.0  # IEC 61851: below 6 A per phase the EV must pause
AC_TAPER_FROM_SOC_PCT = 95.0  # constant-voltage phase of onboard chargers
V2G_MIN_SOC_PCT = 30.0
MAX_SUBSTEP_S = 30.0


def ac_efficiency(current_a: float) -> float:
    """Grid-to-battery efficiency of an onboard charger: 86 % at 0 A rising to 94 % at 16 A+.

    Real onboard chargers measure 84-93 % on 3 phases and worse at low current.
    """
    return 0.86 + 0.08 * min(1.0, max(0.0, current_a) / 16.0)


def dc_efficiency(load_fraction: float) -> float:
    """DC charger efficiency: 90.5 % at no load to 92.8 % at full rated power."""
    return 0.905 + 0.023 * min(1.0, max(0.0, load_fraction))


@dataclass(frozen=True)
class Supply:
    """What the charger's EVSE can deliver: ``kind`` "AC" or "DC", rating, AC phases."""

    kind: str
    max_power_w: float
    phases: int = 3
    v2g: bool = False

    @property
    def max_current_a(self) -> float:
        """AC: per-phase current rating; DC: the grid-side current at 3 x 230 V."""
        return self.max_power_w / (PHASE_VOLTAGE_V * (self.phases if self.kind == "AC" else 3))


@dataclass(frozen=True)
class Limit:
    """Composite limit at this instant: ``value`` in ``unit`` ("A" per phase or "W")."""

    value: float
    unit: str = "W"
    number_phases: int | None = None


@dataclass
class EV:
    spec: VehicleSpec
    soc_pct: float
    target_soc_pct: float = 100.0
    # Energy the driver asked for (2.0.1 NotifyEVChargingNeeds); None = not communicated.
    requested_energy_wh: float | None = None

    @property
    def battery_wh(self) -> float:
        return self.spec.capacity_wh * self.soc_pct / 100.0


@dataclass(frozen=True)
class Step:
    """Result of one step. Energies cover the step; currents are per phase (3 values)."""

    state: str  # "Charging" | "SuspendedEV" | "SuspendedEVSE" | "Discharging"
    grid_power_w: float
    battery_power_w: float
    current_a: tuple[float, float, float]
    phases_used: int
    grid_energy_wh: float
    battery_energy_wh: float


IDLE = ("SuspendedEV", "SuspendedEVSE")


def _ac_draw(ev: EV, supply: Supply, limit: Limit | None) -> tuple[str, float, int]:
    """(state, current per phase, phases) the EV draws on AC."""
    phases = min(supply.phases, ev.spec.ac_phases)
    if limit is not None and limit.number_phases:
        phases = min(phases, limit.number_phases)
    offered_a = supply.max_current_a
    if limit is not None:
        per_phase = limit.value if limit.unit == "A" else limit.value / (PHASE_VOLTAGE_V * phases)
        offered_a = min(offered_a, per_phase)
    if offered_a < MIN_AC_CURRENT_A:
        return "SuspendedEVSE", 0.0, phases
    want_a = ev.spec.ac_max_power_w / (PHASE_VOLTAGE_V * ev.spec.ac_phases)
    if ev.soc_pct > AC_TAPER_FROM_SOC_PCT:
        want_a *= max(0.1, (100.0 - ev.soc_pct) / (100.0 - AC_TAPER_FROM_SOC_PCT))
    return "Charging", min(offered_a, want_a), phases


def power(ev: EV, supply: Supply, limit: Limit | None) -> Step:
    """Instantaneous draw (energies zero): state, grid and battery power, currents."""
    if limit is not None and limit.value < 0 and supply.v2g and ev.spec.v2g \
            and supply.kind == "DC" and ev.soc_pct > V2G_MIN_SOC_PCT:
        export_w = -limit.value if limit.unit == "W" else -limit.value * PHASE_VOLTAGE_V * 3
        export_w = min(export_w, supply.max_power_w, ev.spec.dc_max_power_w)
        batt_w = -export_w / dc_efficiency(export_w / supply.max_power_w)
        cur = -export_w / (PHASE_VOLTAGE_V * 3)
        return Step("Discharging", -export_w, batt_w, (cur, cur, cur), 3, 0.0, 0.0)
    if ev.soc_pct >= min(ev.target_soc_pct, 100.0) - 1e-9:
        return Step("SuspendedEV", 0.0, 0.0, (0.0, 0.0, 0.0), 0, 0.0, 0.0)
    if supply.kind == "AC":
        state, current_a, phases = _ac_draw(ev, supply, limit)
        grid_w = current_a * PHASE_VOLTAGE_V * phases
        cur = tuple(current_a if i < phases else 0.0 for i in range(3))
        return Step(state, grid_w, grid_w * ac_efficiency(current_a), cur, phases if grid_w else 0,
                    0.0, 0.0)
    offered_w = supply.max_power_w
    if limit is not None:
        limit_w = limit.value if limit.unit == "W" else limit.value * PHASE_VOLTAGE_V * 3
        offered_w = min(offered_w, max(0.0, limit_w))
    accept_w = ev.spec.dc_power_w(ev.soc_pct)
    eff = dc_efficiency(min(offered_w, accept_w / 0.92) / supply.max_power_w)
    grid_w = min(offered_w, accept_w / eff)
    if grid_w <= 0:
        return Step("SuspendedEVSE", 0.0, 0.0, (0.0, 0.0, 0.0), 0, 0.0, 0.0)
    cur = grid_w / (PHASE_VOLTAGE_V * 3)
    return Step("Charging", grid_w, grid_w * eff, (cur, cur, cur), 3, 0.0, 0.0)


def step(ev: EV, supply: Supply, limit: Limit | None, dt_s: float) -> Step:
    """Advance ``ev`` by ``dt_s`` under ``limit``; returns energies over the step.

    Integrates in sub-steps of at most 30 s so the DC taper is followed; the last sub-step is
    cut so the state of charge stops exactly at the target (or the V2G floor).
    """
    grid_wh = batt_wh = 0.0
    first: Step | None = None
    left_s = dt_s
    while left_s > 1e-9:
        h_s = min(MAX_SUBSTEP_S, left_s)
        p = power(ev, supply, limit)
        first = first or p
        if p.grid_power_w == 0.0:
            break
        d_batt_wh = p.battery_power_w * h_s / 3600.0
        if d_batt_wh > 0:
            room_wh = (min(ev.target_soc_pct, 100.0) - ev.soc_pct) / 100.0 * ev.spec.capacity_wh
            d_batt_wh = min(d_batt_wh, max(0.0, room_wh))
        else:
            room_wh = (ev.soc_pct - V2G_MIN_SOC_PCT) / 100.0 * ev.spec.capacity_wh
            d_batt_wh = max(d_batt_wh, -max(0.0, room_wh))
        # Scale grid energy with the (possibly cut) battery energy: conservation is exact.
        d_grid_wh = d_batt_wh * p.grid_power_w / p.battery_power_w
        ev.soc_pct += d_batt_wh / ev.spec.capacity_wh * 100.0
        grid_wh += d_grid_wh
        batt_wh += d_batt_wh
        left_s -= h_s
    if first is None:
        first = power(ev, supply, limit)
    return Step(first.state, first.grid_power_w, first.battery_power_w, first.current_a,
                first.phases_used, grid_wh, batt_wh)
