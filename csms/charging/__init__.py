"""Smart-charging engine: pure numpy/scipy policies over arrays (no I/O, no asyncio).

    problem = Problem(period_s=900, available=mask_NxT, energy_kwh=..., max_kw=..., capacity_kw=...)
    result = schedule(problem, "price_optimization")          # oracle: all sessions known
    result = online_schedule(problem, "price_optimization")   # model-predictive, period by period
    result.power_kw  # (N, T) kW at the grid side, negative = V2G discharge
    result.why       # (N, T) binding constraint per session and period

The cars still to come, forecast from the site's history (``forecast``):

    forecast = fit_forecast(History.from_sessions(...), elaad_prior("workplace"))
    future = forecast.future_demand(now_local, period_s, periods, max_kw)
    online_schedule(problem, "peak_shaving", future=future)   # also schedule, controlled_power
"""

from csms.charging.expected import FutureDemand
from csms.charging.forecast import DemandForecast, History, fit_forecast
from csms.charging.limits import ChargerLimits, to_charger_limits
from csms.charging.online import online_schedule
from csms.charging.policies import POLICIES, Schedule, max_energy_kwh, schedule
from csms.charging.prior import elaad_prior
from csms.charging.problem import Problem, availability, frequency_derate

__all__ = ["POLICIES", "ChargerLimits", "DemandForecast", "FutureDemand", "History", "Problem",
           "Schedule", "availability", "elaad_prior", "fit_forecast", "frequency_derate",
           "max_energy_kwh", "online_schedule", "schedule", "to_charger_limits"]
