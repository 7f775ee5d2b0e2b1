"""PV output of a site from pvlib clear-sky irradiance, fully offline.

Chain: solar position (pvlib "ephemeris", ~10x faster than NREL SPA and well within PV accuracy)
-> Ineichen clear sky with the Linke turbidity climatology shipped in pvlib -> isotropic
plane-of-array irradiance -> SAPM cell temperature (open rack, glass/glass) -> PVWatts DC
(gamma = -0.37 %/K) -> PVWatts system losses (14 % default) -> nominal inverter efficiency 96 %,
clipped at ``kwp / dc_ac_ratio``. Clear sky is an upper envelope: a real day yields less.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pvlib

CASABLANCA_LATITUDE = 33.57
CASABLANCA_LONGITUDE = -7.59


def _index(times) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(times)
    if idx.tz is None:
        raise ValueError("pv_kw needs aware times (UTC): got naive timestamps")
    return idx


def pv_kw(kwp: float, times, tilt_deg: float = 30.0, azimuth_deg: float = 180.0,
          latitude: float = CASABLANCA_LATITUDE, longitude: float = CASABLANCA_LONGITUDE,
          altitude_m: float = 50.0, losses_pct: float = 14.0, temp_air_c: float = 20.0,
          wind_speed_m_s: float = 1.0, inverter_efficiency: float = 0.96,
          dc_ac_ratio: float = 1.1) -> np.ndarray:
    """(T,) AC output in kW at each instant of ``times`` (DatetimeIndex or aware datetimes).

    For a period average, pass period midpoints (see :func:`pv_kw_periods`).
    """
    if kwp < 0 or not np.isfinite(kwp):
        raise ValueError(f"kwp must be >= 0, got {kwp!r}")
    if not 0 <= losses_pct < 100:
        raise ValueError(f"losses_pct must be in [0, 100), got {losses_pct!r}")
    idx = _index(times)
    if kwp == 0 or len(idx) == 0:
        return np.zeros(len(idx))
    pos = pvlib.solarposition.get_solarposition(idx, latitude, longitude, altitude=altitude_m,
                                                method="ephemeris")
    location = pvlib.location.Location(latitude, longitude, altitude=altitude_m)
    sky = location.get_clearsky(idx, model="ineichen", solar_position=pos)
    poa = pvlib.irradiance.get_total_irradiance(
        tilt_deg, azimuth_deg, pos["apparent_zenith"], pos["azimuth"],
        sky["dni"], sky["ghi"], sky["dhi"], model="isotropic")
    poa_w_m2 = np.nan_to_num(poa["poa_global"].to_numpy(), nan=0.0).clip(min=0.0)
    params = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_glass"]
    cell_c = pvlib.temperature.sapm_cell(poa_w_m2, temp_air_c, wind_speed_m_s, **params)
    dc_kw = pvlib.pvsystem.pvwatts_dc(poa_w_m2, cell_c, kwp, -0.0037)
    ac_kw = np.asarray(dc_kw) * (1.0 - losses_pct / 100.0) * inverter_efficiency
    return np.clip(ac_kw, 0.0, kwp / dc_ac_ratio)


def pv_kw_periods(kwp: float, start: datetime, period_s: int, periods: int, **kwargs) -> np.ndarray:
    """(T,) PV output of each period, evaluated at the period midpoints."""
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    idx = pd.date_range(start=pd.Timestamp(start) + pd.Timedelta(seconds=period_s / 2),
                        periods=periods, freq=pd.Timedelta(seconds=period_s))
    return pv_kw(kwp, idx, **kwargs)
