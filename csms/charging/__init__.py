"""Smart-charging engine: pure numpy/scipy policies over arrays (no I/O, no asyncio).

    problem = Problem(period_s=900, available=mask_NxT, energy_kwh=..., max_kw=..., capacity_kw=...)
    result = schedule(problem, "price_optimization")          # oracle: all sessions known
    result = online_schedule(problem, "price_optimization")   # model-predictive, period by period
    result.power_kw  # (N, T) kW at the grid side, negative = V2G discharge
    result.why       # (N, T) binding constraint per session and period
"""

from csms.charging.limits import ChargerLimits, to_charger_limits
from csms.charging.online import online_schedule
from csms.charging.policies import POLICIES, Schedule, max_energy_kwh, schedule
from csms.charging.problem import Problem, availability, frequency_derate

__all__ = ["POLICIES", "ChargerLimits", "Problem", "Schedule", "availability",
           "frequency_derate", "max_energy_kwh", "online_schedule", "schedule",
           "to_charger_limits"]
