"""Tariffs as data: band and price lookups, cost of power series and sessions.

``DEFAULT_TARIFF`` is the brief's tariff (``csms/data/tariffs/onee-default.json``).
"""

from csms.tariff.daily import DayCost, day_cost
from csms.tariff.model import TariffSpec
from csms.tariff.session_cost import session_cost_mad
from csms.tariff.tariff import TARIFF_DIR, Tariff, load_tariff

DEFAULT_TARIFF: Tariff = load_tariff("onee-default")

__all__ = ["DEFAULT_TARIFF", "TARIFF_DIR", "DayCost", "Tariff", "TariffSpec", "day_cost",
           "load_tariff", "session_cost_mad"]
