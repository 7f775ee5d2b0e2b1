"""What a charger is, electrically: AC or DC, its rating, supply phases, connector type.

Three sources, in order of trust: the operator's registry (never overwritten by what is
learned), what the charger reports (2.0.1 device model ``EVSE.Power``, ``EVSE.SupplyPhases``,
``Connector.ConnectorType``; a composite schedule without profiles of ours, which is the EVSE's
own limit), and what its meter values show (a DC charger talks to the car and reports its state
of charge and the DC voltage at the outlet; an AC EVSE cannot; a draw above what any AC
connection can carry). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from csms.domain.electrical import AC_MAX_W, VOLTAGE_V
from csms.domain.model import MeterSample

OPERATOR, REPORTED, MEASURED = "operator", "reported", "measured"
TRUST = {OPERATOR: 3, REPORTED: 2, MEASURED: 1, None: 0}

# 2.0.1 ConnectorEnumType: the DC ones (combo, CHAdeMO, ChaoJi, GB/T DC); every socket
# (s...) and the AC cable connectors are AC.
DC_CONNECTORS = frozenset({"cCCS1", "cCCS2", "cG105", "cChaoJi", "cGBT"})
AC_CONNECTORS = frozenset({"cType1", "cType2", "sType2", "sType3", "s309-1P-16A",
                           "s309-1P-32A", "s309-3P-16A", "s309-3P-32A", "sBS1361", "sCEE-7-7"})
# AC_MAX_W (csms.domain.electrical): the most an AC connection carries, 3 x 63 A x 230 V.
# A larger rating or draw is DC.
DC_VOLTAGE_MIN_V = 250.0  # a phase-less outlet voltage above this is a DC link, not L-N AC
# 3 x 32 A x 230 V = 22.08 kW: an AC EVSE whose rating nobody told us
DEFAULT_AC_EVSE_W = 3 * 32 * VOLTAGE_V
DEFAULT_DC_EVSE_W = 50_000.0


DC_ULTRA_MIN_W = 150_000.0  # the console's "DC ultra" class starts here


def default_rating_w(kind: str | None) -> float:
    return DEFAULT_DC_EVSE_W if (kind or "").upper() == "DC" else DEFAULT_AC_EVSE_W


def charger_class(kind: str | None, max_power_w: float | None) -> str:
    """"ac" | "dc_fast" | "dc_ultra" (>= 150 kW); a DC charger of unknown rating is DC fast."""
    if (kind or "").upper() != "DC":
        return "ac"
    return "dc_ultra" if (max_power_w or 0.0) >= DC_ULTRA_MIN_W else "dc_fast"


@dataclass(frozen=True)
class ChargerFacts:
    """Per charger (each EVSE alike): ``kind`` "AC" | "DC", ``max_power_w`` per EVSE,
    ``supply_phases`` (0 = DC), ``connector_type``, ``phase_wiring`` (the site phases its L1,
    L2, L3 are on, e.g. "L2L3L1" or "L2"); None = not known."""

    kind: str | None = None
    max_power_w: float | None = None
    supply_phases: int | None = None
    connector_type: str | None = None
    phase_wiring: str | None = None

    def __post_init__(self) -> None:
        if self.kind is None:
            object.__setattr__(self, "kind", _kind(self))

    @property
    def empty(self) -> bool:
        return self.kind is None and self.max_power_w is None and self.supply_phases is None \
            and self.connector_type is None and self.phase_wiring is None


def _kind(f: ChargerFacts) -> str | None:
    if f.connector_type in DC_CONNECTORS:
        return "DC"
    if f.supply_phases == 0:
        return "DC"
    if f.max_power_w is not None and f.max_power_w > AC_MAX_W:
        return "DC"
    if f.connector_type in AC_CONNECTORS or (f.supply_phases or 0) > 0:
        return "AC"
    return None


# OCPP phase rotation (1.6 ConnectorPhaseRotation, 2.0.1 PhaseRotation): R, S, T are the
# grid's L1, L2, L3 in the order the charger's own L1, L2, L3 are wired to them; 2.0.1 writes
# an unconnected phase as "x" ("Sxx": a one-phase charger on L2).
_GRID_PHASE = {"R": "L1", "S": "L2", "T": "L3"}
WIRINGS = ("L1L2L3", "L2L3L1", "L3L1L2", "L1", "L2", "L3")


def wiring_of_rotation(rotation: str | None) -> str | None:
    """"STR" -> "L2L3L1", "Sxx" -> "L2"; None for NotApplicable / Unknown, a rotation the
    site model has no name for (reverse order: "RTS"), or anything else."""
    text = (rotation or "").strip()
    if len(text) != 3 or text[0] not in _GRID_PHASE:
        return None
    if text[1:] == "xx":
        return _GRID_PHASE[text[0]]
    if any(c not in _GRID_PHASE for c in text) or len(set(text)) != 3:
        return None
    wiring = "".join(_GRID_PHASE[c] for c in text)
    return wiring if wiring in WIRINGS else None


def merged(a: ChargerFacts, b: ChargerFacts) -> ChargerFacts:
    """``b``'s facts where it has them, else ``a``'s; the kind follows from the merged facts
    (or is either's when they do not tell)."""
    out = ChargerFacts(
        None, b.max_power_w if b.max_power_w is not None else a.max_power_w,
        b.supply_phases if b.supply_phases is not None else a.supply_phases,
        b.connector_type or a.connector_type, b.phase_wiring or a.phase_wiring)
    return out if out.kind is not None else replace(out, kind=b.kind or a.kind)


def from_samples(samples: Iterable[MeterSample]) -> ChargerFacts:
    """What meter values tell: DC when the car's SoC or a DC outlet voltage is reported and
    nothing is measured per phase (an AC meter reports L1..L3), or the draw exceeds any AC
    connection; ``max_power_w`` is the largest whole-EVSE draw seen (a lower bound of the
    rating: the caller only ever raises a rating with it)."""
    dc_sign = per_phase = False
    max_w = None
    for s in samples:
        if s.phase:
            per_phase = per_phase or s.measurand in ("Current.Import", "Voltage",
                                                     "Power.Active.Import")
        elif s.measurand == "SoC" and (s.location or "EV") == "EV":
            dc_sign = True
        elif s.measurand == "Voltage" and s.value > DC_VOLTAGE_MIN_V:
            dc_sign = True
        elif s.measurand == "Power.Active.Import":
            watts = s.value
            max_w = watts if max_w is None else max(max_w, watts)
    dc = (dc_sign and not per_phase) or (max_w is not None and max_w > AC_MAX_W)
    return ChargerFacts("DC" if dc else None, max_w if max_w and max_w > 0 else None)
