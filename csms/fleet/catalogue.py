"""The vehicle model catalogue: the brief's 14 models with corrected, cited facts.

``csms/data/vehicles/models.json`` is written by ``python -m simulators.data.derive`` from
open-ev-data (MIT) with the corrections in its ``citation`` and each model's ``note``; the
simulators' ``vehicles.json`` comes from the same derivation, so the CSMS and the simulated cars
agree on every figure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MODELS_FILE = Path(__file__).resolve().parents[1] / "data" / "vehicles" / "models.json"


@dataclass(frozen=True)
class VehicleModel:
    name: str
    segment: str
    battery_wh: float  # usable capacity
    ac_phases: int
    ac_max_w: float  # onboard charger
    dc_max_w: float  # 0: no DC inlet
    v2g: bool
    source: str
    note: str | None = None


@cache
def _raw() -> dict:
    return json.loads(MODELS_FILE.read_text(encoding="utf-8"))


def citation() -> str:
    return _raw()["citation"]


def licence() -> str:
    return _raw()["licence"]


@cache
def models() -> tuple[VehicleModel, ...]:
    return tuple(VehicleModel(
        name=m["name"], segment=m["segment"], battery_wh=float(m["battery_wh"]),
        ac_phases=int(m["ac_phases"]), ac_max_w=float(m["ac_max_w"]),
        dc_max_w=float(m["dc_max_w"]), v2g=bool(m["v2g"]), source=m["source"],
        note=m.get("note")) for m in _raw()["models"])


def model_named(name: str) -> VehicleModel | None:
    """The catalogue model of that name (case and surrounding spaces ignored), or None."""
    wanted = name.strip().casefold()
    return next((m for m in models() if m.name.casefold() == wanted), None)
