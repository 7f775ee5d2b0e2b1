"""Vehicle specifications and the fleet mix, from ``simulators/data/vehicles.json``.

The JSON is derived from open-ev-data (MIT) with the corrections listed in its header; see
``simulators/data/README.md`` for sources and licences.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

SEGMENTS = ("urban", "mixed", "commercial", "premium")


@dataclass(frozen=True)
class VehicleSpec:
    """One EV model. ``dc_curve_*`` have the same length K (K = 0 when the car has no DC)."""

    name: str
    segment: str
    capacity_wh: float
    ac_phases: int
    ac_max_power_w: float
    dc_max_power_w: float  # 0 = no DC charging
    dc_curve_soc_pct: tuple[float, ...]
    dc_curve_power_w: tuple[float, ...]
    v2g: bool
    dc_voltage_v: float
    source: str

    @property
    def ac_max_current_a(self) -> float:
        """Onboard charger limit per phase at 230 V."""
        return self.ac_max_power_w / (230.0 * self.ac_phases)

    @property
    def has_dc(self) -> bool:
        return self.dc_max_power_w > 0

    def dc_power_w(self, soc_pct: float) -> float:
        """Battery-side power the EV accepts on DC at this state of charge (curve taper)."""
        if not self.has_dc:
            return 0.0
        power_w = float(np.interp(soc_pct, self.dc_curve_soc_pct, self.dc_curve_power_w))
        return min(power_w, self.dc_max_power_w)


@cache
def _raw() -> dict:
    return json.loads(resources.files("simulators.data").joinpath("vehicles.json").read_text())


@cache
def load_vehicles() -> tuple[VehicleSpec, ...]:
    out = []
    for v in _raw()["vehicles"]:
        curve = v.get("dc_curve") or []
        out.append(VehicleSpec(
            name=v["name"], segment=v["segment"], capacity_wh=v["capacity_kwh"] * 1000.0,
            ac_phases=int(v["ac_phases"]), ac_max_power_w=v["ac_max_power_kw"] * 1000.0,
            dc_max_power_w=(v.get("dc_max_power_kw") or 0.0) * 1000.0,
            dc_curve_soc_pct=tuple(float(p[0]) for p in curve),
            dc_curve_power_w=tuple(float(p[1]) * 1000.0 for p in curve),
            v2g=bool(v.get("v2g")), dc_voltage_v=float(v.get("dc_voltage_v", 400.0)),
            source=v["source"]))
    return tuple(out)


def vehicle(name: str) -> VehicleSpec:
    for v in load_vehicles():
        if v.name == name:
            return v
    raise KeyError(name)


def default_mix_pct() -> dict[str, float]:
    """Documented default for the Moroccan market (an assumption, see the data README)."""
    return dict(_raw()["default_mix_pct"])


@dataclass(frozen=True)
class FleetMix:
    """Share of each segment in percent; models within a segment are equally likely."""

    segment_pct: tuple[tuple[str, float], ...]

    @classmethod
    def default(cls) -> FleetMix:
        return cls(tuple(default_mix_pct().items()))

    @classmethod
    def parse(cls, text: str) -> FleetMix:
        """``"urban=50,mixed=30,commercial=15,premium=5"``."""
        pairs = []
        for part in text.split(","):
            name, _, pct = part.partition("=")
            if name.strip() not in SEGMENTS:
                raise ValueError(f"unknown segment {name!r}; expected one of {SEGMENTS}")
            pairs.append((name.strip(), float(pct)))
        return cls(tuple(pairs))

    def sample(self, rng: random.Random, dc_only: bool = False) -> VehicleSpec:
        segments = [s for s, pct in self.segment_pct if pct > 0]
        weights = [pct for _, pct in self.segment_pct if pct > 0]
        segment = rng.choices(segments, weights)[0]
        models = [v for v in load_vehicles() if v.segment == segment and (v.has_dc or not dc_only)]
        if not models:
            models = [v for v in load_vehicles() if v.has_dc or not dc_only]
        return rng.choice(models)
