"""The ElaadNL statistics as the demand forecast's prior (``csms/data/elaad``, MIT).

A site with little history of its own borrows the shape of its days from these: when cars
arrive (share per 15 min, weekday and weekend) and how long they stay and how much they take
(quantiles). They say nothing of how many cars a site gets: that comes from the site's history
or its operator (``csms.charging.forecast``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "elaad"
SLOTS_PER_DAY = 96          # the files' arrival resolution: 15 min
KINDS = ("private", "public", "workplace")


@dataclass(frozen=True)
class DemandPrior:
    """One ElaadNL class.

    ``arrival_share`` (2, 96): fraction of a day's arrivals per local 15-min slot, row 0 for
    weekdays and row 1 for weekend days (each row sums to 1). ``dwell_h`` and ``energy_kwh``
    (Q,): equally likely sessions' connection time and energy, both sorted ascending (the
    i-th of each is the same quantile: long stays are the ones that take the most energy).
    """

    kind: str
    arrival_share: np.ndarray
    dwell_h: np.ndarray
    energy_kwh: np.ndarray


def _columns(path: Path) -> dict[str, np.ndarray]:
    with open(path, newline="", encoding="utf-8-sig") as fh:     # the files start with a BOM
        rows = list(csv.reader(fh))
    head = rows[0]
    return {name: np.array([float(r[j]) for r in rows[1:]]) for j, name in enumerate(head)
            if j > 0}


def _quantiles(exceeded: np.ndarray) -> np.ndarray:
    """Values exceeded by 0..100 % of sessions -> the 100 equally likely sessions (midpoints
    of each percent), ascending."""
    mid = (exceeded[:-1] + exceeded[1:]) / 2.0
    return np.sort(mid)


def elaad_prior(kind: str = "workplace", data_dir: Path = DATA_DIR) -> DemandPrior:
    """Load one class: ``private`` (homes), ``public`` (commercial) or ``workplace``.

    The weekend file has no ``workplace`` column; a workplace's weekend takes the ``public``
    shape (the few cars that come are visitors rather than staff).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown ElaadNL class {kind!r}; choose from {', '.join(KINDS)}")
    weekday = _columns(data_dir / "distribution-of-arrival.csv")
    weekend = _columns(data_dir / "distribution-of-arrival-weekend.csv")
    shares = np.vstack([weekday[kind], weekend.get(kind, weekend["public"])])
    if shares.shape != (2, SLOTS_PER_DAY):
        raise ValueError(f"arrival shares must have {SLOTS_PER_DAY} slots, got {shares.shape}")
    shares = shares / shares.sum(axis=1, keepdims=True)
    dwell = _columns(data_dir / "distribution-of-connection-time.csv")[kind]
    energy = _columns(data_dir / "distribution-of-energy-demand.csv")[kind]
    return DemandPrior(kind=kind, arrival_share=shares, dwell_h=_quantiles(dwell),
                       energy_kwh=_quantiles(energy))
