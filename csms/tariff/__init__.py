"""Tariffs as data: band and price lookups, cost of power series and sessions.

``DEFAULT_TARIFF`` is the brief's tariff (``csms/data/tariffs/onee-default.json``).
"""

from csms.tariff.model import TariffSpec
from csms.tariff.tariff import TARIFF_DIR, Tariff, load_tariff

DEFAULT_TARIFF: Tariff = load_tariff("onee-default")

__all__ = ["DEFAULT_TARIFF", "TARIFF_DIR", "Tariff", "TariffSpec", "load_tariff"]
