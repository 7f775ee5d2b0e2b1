"""/grid (load curve, power quality radar, transformer loading, history) and /costs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from fastapi import APIRouter, Request

from csms import clock
from csms.grid.frequency import simulated_frequency_hz
from csms.grid.model import grid_kpis
from csms.sites import history
from csms.sites.kpis import month_cost_by_band
from csms.sites.load import site_load
from csms.web.console import overview, svg
from csms.web.console.i18n import translate
from csms.web.console.render import DB, CurrentUser, lang_of, page
from csms.web.console.site import (
    PERIOD_S,
    connection_of,
    current_site,
    day_bounds,
    day_series,
    period_labels,
    tariff_of,
)

router = APIRouter()
HISTORY_DAYS = 30


def _today(session):
    """The shown site's day so far at 15 min, as ``csms.sites.load`` measures it for the API
    (EV from the registers per phase, base and PV from the site's models)."""
    site = current_site(session)
    now = clock.now()
    day_start, day_end, periods = day_bounds(site, now)
    series = site_load(session, site.id, day_start, day_end, PERIOD_S) \
        if site.id is not None else None
    if series is None or len(series.ev_kw) != periods:  # no site stored yet
        base, pv = day_series(site, day_start, periods)
        ev_phase_kw = np.zeros((periods, 3))
    else:
        base, pv, ev_phase_kw = series.base_kw, series.pv_kw, series.ev_kw_per_phase
    k = min(int((now - day_start).total_seconds() // PERIOD_S), periods - 1)
    return site, now, day_start, periods, base, pv, ev_phase_kw, k


@router.get("/grid")
def grid_page(request: Request, session: DB, user: CurrentUser):
    lang = lang_of(request, user)
    t = lambda key: translate(lang, key)  # noqa: E731
    site, now, day_start, periods, base, pv, ev_phase_kw, k = _today(session)
    ov = overview.build(session, now)
    shown_ev = ev_phase_kw.copy()
    # The current period: live power, not a partial energy (split as the period so far was).
    split = ev_phase_kw[k] / ev_phase_kw[k].sum() if ev_phase_kw[k].sum() > 0 else np.ones(3) / 3
    shown_ev[k] = ov.ev_kw * split
    future = np.arange(periods) > k
    labels = period_labels(day_start, periods, tariff_of(site).tz)
    nan_future = lambda a: np.where(future, np.nan, a)  # noqa: E731
    kpis = grid_kpis(connection_of(site), base, shown_ev, pv)
    freq = simulated_frequency_hz(periods, PERIOD_S, seed=day_start.toordinal())
    th = kpis.thresholds
    now_vals = {
        "frequency": (float(freq[k]), f"50 ± {th.frequency_tolerance_hz} Hz",
                      abs(freq[k] - 50) / th.frequency_tolerance_hz),
        "voltage": (ov.grid_now["voltage"][0], f"± {th.voltage_deviation_max_pct} %",
                    abs(ov.grid_now["voltage"][0]) / th.voltage_deviation_max_pct),
        "thd": (ov.grid_now["thd"][0], f"{kpis.voltage_thd_limit_pct} %",
                ov.grid_now["thd"][0] / kpis.voltage_thd_limit_pct),
        "pf": (ov.grid_now["pf"][0], f"≥ {th.power_factor_min}",
               (1 - ov.grid_now["pf"][0]) / (1 - th.power_factor_min)),
        "unbalance": (ov.grid_now["unbalance"][0], f"{th.voltage_unbalance_max_pct} %",
                      ov.grid_now["unbalance"][0] / th.voltage_unbalance_max_pct),
        "transformer": (ov.grid_now["transformer"][0], f"{th.transformer_loading_max_pct} %",
                        ov.grid_now["transformer"][0] / th.transformer_loading_max_pct),
    }
    radar = svg.radar_chart(t("power_quality"), [(t(key), v[2]) for key, v in now_vals.items()])
    trafo_chart = svg.line_chart(t("transformer"), labels, [
        (t("transformer"), nan_future(kpis.transformer_loading_pct))], limit=100.0,
        limit_label=t("limit"), unit="%")
    days, energy = _history(session, site, now)
    hist_chart = svg.bar_chart(t("history"), days, [(t("energy"), energy)], unit="kWh")
    return page(request, "grid.html", user, "grid", blocks=("live", "curve"), ov=ov,
                # The 2-s live refresh does not redraw the 24-h curve (its block: every 60 s).
                load_chart=None if request.query_params.get("block") == "live"
                else _rolling_load_chart(session, site, now, t), radar=radar,
                now_vals=now_vals, trafo_chart=trafo_chart, hist_chart=hist_chart, site=site)


def _rolling_load_chart(session, site, now, t) -> str:
    """The last 24 h of complete periods, from the same series as
    ``/api/v1/sites/{id}/load`` (csms.sites.load): EV from the registers, base and PV from the
    site's models, the import and the limit in force."""
    # Up to the last complete period: the current one is partial (its mean would dip).
    end = datetime.fromtimestamp((now.timestamp() // PERIOD_S) * PERIOD_S, UTC)
    series = site_load(session, site.id, end - timedelta(hours=24), end, PERIOD_S) \
        if site.id is not None else None
    if series is None:  # no site stored yet
        return svg.line_chart(t("load_curve"), [], [])
    labels = [ts.astimezone(tariff_of(site).tz).strftime("%H:%M") for ts in series.timestamps]
    return svg.line_chart(t("load_curve"), labels, [
        (t("base_load"), series.base_kw), (t("ev_power"), series.ev_kw), (t("pv"), series.pv_kw),
        (t("net_import"), series.import_kw)], limit=float(site.capacity_kw),
        limit_label=t("limit"))


def _history(session, site, now):
    day_start, _, _ = day_bounds(site, now)
    first = day_start - timedelta(days=HISTORY_DAYS - 1)
    kw = history.days_kw(session, first, HISTORY_DAYS, now, site.id)
    per_day = kw.reshape(HISTORY_DAYS, 96).sum(axis=1) * PERIOD_S / 3600.0
    tz = tariff_of(site).tz
    labels = [(first + timedelta(days=d)).astimezone(tz).strftime("%d/%m")
              for d in range(HISTORY_DAYS)]
    return labels, per_day


@router.get("/costs")
def costs_page(request: Request, session: DB, user: CurrentUser):
    from csms.sites.economics import site_payback

    lang = lang_of(request, user)
    t = lambda key: translate(lang, key)  # noqa: E731
    site = current_site(session)
    now = clock.now()
    day_start, _, _ = day_bounds(site, now)
    tariff = tariff_of(site)
    # Today's and the month's grid import by band: the site's KPIs, as the API returns them
    # (the month adds the past days to today's figures, so it is never below today).
    kpis = overview.today(session, now)
    band_today = kpis["cost"]["by_band"] if kpis else None
    band_month = month_cost_by_band(session, site, now, band_today) if kpis else None
    first = day_start - timedelta(days=HISTORY_DAYS - 1)
    # The trend: the EV energy of the site's sessions per day at the tariff's prices.
    kw30 = history.days_kw(session, first, HISTORY_DAYS, now, site.id)
    prices30 = np.asarray(tariff.prices_mad_per_kwh(first, PERIOD_S, len(kw30)), float)
    daily_cost = (kw30 * prices30 * PERIOD_S / 3600).reshape(HISTORY_DAYS, 96).sum(axis=1)
    labels = [(first + timedelta(days=d)).astimezone(tariff.tz).strftime("%d/%m")
              for d in range(HISTORY_DAYS)]
    trend = svg.bar_chart(t("cost_trend"), labels, [(t("cost"), daily_cost)], unit="MAD")
    # The site's payback as GET /api/v1/sites/{id}/payback computes it; this page formats it.
    pb = site_payback(session, site, now)
    return page(request, "costs.html", user, "costs", kpis=kpis, band_today=band_today,
                band_month=band_month, trend=trend, payback=pb)
