"""Payback of the charging infrastructure, in months, from capex, opex and the selling price.

Defaults are assumptions of this project (MAD, 2024, at about 10 MAD per USD), of the order of
magnitude reported by public cost studies such as ICCT's "Estimating electric vehicle charging
infrastructure costs across major U.S. metropolitan areas" (2019); they are NOT quotes: an
operator enters real prices. See docs/energy-model.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# Hardware per charger and installation (civil works, cabling, commissioning) per charger, MAD.
CHARGER_CAPEX_MAD = {"ac7": 12_000.0, "ac22": 25_000.0, "dc50": 300_000.0, "dc150": 800_000.0}
INSTALLATION_MAD = {"ac7": 8_000.0, "ac22": 15_000.0, "dc50": 150_000.0, "dc150": 300_000.0}
MAINTENANCE_PCT_OF_HARDWARE_PER_YEAR = 5.0
SOFTWARE_MAD_PER_CHARGER_MONTH = 150.0  # CSMS licence, SIM, payment fees (fixed part)
SELLING_PRICE_MAD_PER_KWH = 3.0


@dataclass(frozen=True)
class PaybackInputs:
    chargers: dict[str, int]  # charger type -> count
    energy_sold_kwh_per_month: float
    energy_cost_mad_per_kwh: float  # measured mean purchase price (tariff over real load)
    selling_price_mad_per_kwh: float = SELLING_PRICE_MAD_PER_KWH
    grid_connection_capex_mad: float = 0.0  # transformer / connection works, if any
    charger_capex_mad: dict[str, float] = field(default_factory=lambda: dict(CHARGER_CAPEX_MAD))
    installation_mad: dict[str, float] = field(default_factory=lambda: dict(INSTALLATION_MAD))
    maintenance_pct_of_hardware_per_year: float = MAINTENANCE_PCT_OF_HARDWARE_PER_YEAR
    software_mad_per_charger_month: float = SOFTWARE_MAD_PER_CHARGER_MONTH
    demand_charge_mad_per_month: float = 0.0


@dataclass(frozen=True)
class Payback:
    capex_mad: float
    opex_mad_per_month: float
    margin_mad_per_month: float  # revenue - energy cost - opex
    months: float  # math.inf when the margin is not positive
    # The terms of the sums above, so a page can show how the figure is computed.
    hardware_mad: float = 0.0
    installation_mad: float = 0.0
    grid_connection_mad: float = 0.0
    maintenance_mad_per_month: float = 0.0
    software_mad_per_month: float = 0.0
    demand_charge_mad_per_month: float = 0.0
    revenue_mad_per_month: float = 0.0
    energy_cost_mad_per_month: float = 0.0


def payback(inputs: PaybackInputs) -> Payback:
    hardware = installation = 0.0
    for kind, count in inputs.chargers.items():
        if kind not in inputs.charger_capex_mad or kind not in inputs.installation_mad:
            raise ValueError(f"unknown charger type {kind!r}; known: "
                             f"{sorted(inputs.charger_capex_mad)}")
        if count < 0:
            raise ValueError(f"charger count for {kind!r} must be >= 0, got {count}")
        hardware += inputs.charger_capex_mad[kind] * count
        installation += inputs.installation_mad[kind] * count
    if inputs.energy_sold_kwh_per_month < 0:
        raise ValueError("energy_sold_kwh_per_month must be >= 0")
    n = sum(inputs.chargers.values())
    capex = hardware + installation + inputs.grid_connection_capex_mad
    maintenance = hardware * inputs.maintenance_pct_of_hardware_per_year / 100.0 / 12.0
    software = inputs.software_mad_per_charger_month * n
    opex = maintenance + software + inputs.demand_charge_mad_per_month
    revenue = inputs.energy_sold_kwh_per_month * inputs.selling_price_mad_per_kwh
    energy_cost = inputs.energy_sold_kwh_per_month * inputs.energy_cost_mad_per_kwh
    margin = revenue - energy_cost - opex
    months = capex / margin if margin > 0 else math.inf
    return Payback(capex, opex, margin, months, hardware, installation,
                   inputs.grid_connection_capex_mad, maintenance, software,
                   inputs.demand_charge_mad_per_month, revenue, energy_cost)


def payback_months(inputs: PaybackInputs | None = None, **kwargs) -> float:
    """Months to recover the capex; ``math.inf`` if the monthly margin is not positive.

    Pass a :class:`PaybackInputs` or its fields as keywords.
    """
    return payback(inputs if inputs is not None else PaybackInputs(**kwargs)).months
