"""Small helpers shared by the tariff tests."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from csms.tariff import TARIFF_DIR

CASA = ZoneInfo("Africa/Casablanca")


def local(*args, fold: int = 0) -> datetime:
    """An aware UTC instant from a Casablanca wall-clock time."""
    return datetime(*args, tzinfo=CASA, fold=fold).astimezone(UTC)


def default_dict() -> dict:
    return json.loads((TARIFF_DIR / "onee-default.json").read_text())


def two_band(boundary: str, price_a: float = 1.0, price_b: float = 2.0) -> dict:
    """Band "a" from 00:00 to ``boundary``, band "b" after it, every day."""
    d = copy.deepcopy(default_dict())
    d["prices_mad_per_kwh"] = {"a": price_a, "b": price_b}
    d["peak_band"] = "b"
    d["seasons"][0]["day_types"][0]["bands"] = [
        {"band": "a", "start": "00:00", "end": boundary},
        {"band": "b", "start": boundary, "end": "24:00"}]
    return d
