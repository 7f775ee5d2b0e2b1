"""A site's own vehicles (``csms-sim --fleet N``): N cars drawn once from the fleet mix, each
with a fixed RFID tag, so a CSMS that registers them (``--fleet-file``, then ``csms vehicles
import``) knows which car is charging.

Deterministic for a seed and a mix: the draw has its own generator, so the number of chargers
or any other option does not change which cars a site owns.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from simulators.vehicles import FleetMix, VehicleSpec

TAG_PREFIX = "FLEET"


@dataclass(frozen=True)
class FleetVehicle:
    id_token: str  # the driver's RFID tag, presented at every plug-in
    spec: VehicleSpec
    name: str

    def entry(self) -> dict:
        """The vehicle as a ``--fleet-file`` entry (``model`` is the catalogue model name)."""
        return {"id_token": self.id_token, "model": self.spec.name, "name": self.name}


def fleet_tag(i: int) -> str:
    """The tag of the fleet's vehicle ``i`` (from 0): ``FLEET-0001``..."""
    return f"{TAG_PREFIX}-{i + 1:04d}"


def draw_fleet(n: int, mix: FleetMix, seed: int) -> tuple[FleetVehicle, ...]:
    """``n`` vehicles drawn from ``mix`` (the same sampling as the visitors), named
    ``<tag> <model>``."""
    if n < 0:
        raise ValueError(f"a fleet has 0 or more vehicles, got {n}")
    rng = random.Random(f"fleet:{seed}")
    out = []
    for i in range(n):
        spec = mix.sample(rng)
        tag = fleet_tag(i)
        out.append(FleetVehicle(tag, spec, f"{tag} {spec.name}"))
    return tuple(out)


def write_fleet_file(path: str | Path, fleet: tuple[FleetVehicle, ...]) -> None:
    """``[{"id_token", "model", "name"}, ...]`` for ``csms vehicles import``."""
    Path(path).write_text(json.dumps([v.entry() for v in fleet], indent=1) + "\n",
                          encoding="utf-8")
