"""Closed-form, vectorised grid KPIs of a site per time step.

Each phase p sees an ideal source E_p (``source_voltage_pu`` x V_nominal / sqrt 3, at 0, -120,
+120 degrees) behind the source impedance Z = R + jX, and draws a constant power
S_p = P_p + jQ_p. With V_p as the angle reference, ``E = V + Z conj(S/V)`` gives the exact
closed form ``|V|^2 = c + sqrt(c^2 - |S|^2 |Z|^2)`` with ``c = |E|^2/2 - (P R + Q X)``, and the
phase angle ``delta = -atan2(P X - Q R, |V|^2 + P R + Q X)``. Phases are decoupled (zero-sequence
impedance = positive-sequence, neutral held at the source): a Dyn transformer comes close.
Unbalance is of the *voltage*: IEC VUF = |V2| / |V1| and NEMA LVUR = max |V_ll - mean| / mean.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from csms.grid import harmonics
from csms.grid.connection import GridConnection, lv_feeder
from csms.grid.kpis import KPI_THRESHOLDS, KpiThresholds

log = logging.getLogger(__name__)

__all__ = ["GridConnection", "GridKpis", "grid_kpis", "lv_feeder"]

_A = np.exp(2j * np.pi / 3)
_PHASE_ROT = np.array([1.0, _A**2, _A])  # a, b, c at 0, -120, +120 degrees


@dataclass
class GridKpis:
    """Per-step KPIs; (T,) unless noted."""

    nominal_v: float
    transformer_loading_pct: np.ndarray  # most loaded phase x 3 / rating
    voltage_pu: np.ndarray  # positive-sequence voltage / nominal
    voltage_v: np.ndarray  # positive-sequence, line-to-line equivalent
    phase_voltage_v: np.ndarray  # (T, 3) phase-to-neutral magnitudes
    voltage_deviation_pct: np.ndarray  # worst phase, signed (negative = undervoltage)
    power_factor: np.ndarray  # |P| / S of the exchange with the grid; 1 when S = 0
    voltage_unbalance_pct: np.ndarray  # IEC: |V2| / |V1| x 100
    voltage_unbalance_nema_pct: np.ndarray  # NEMA: line voltages, max dev from mean / mean
    current_thd_pct: np.ndarray  # worst phase, relative to that phase's fundamental
    current_tdd_pct: np.ndarray  # worst phase, relative to the transformer rated current
    voltage_thd_pct: np.ndarray  # worst phase, including background
    phase_current_a: np.ndarray  # (T, 3)
    import_kw: np.ndarray  # net active power from the grid; negative = export
    reactive_kvar: np.ndarray  # net reactive power from the grid
    frequency_hz: np.ndarray | None = None
    thresholds: KpiThresholds = field(default_factory=lambda: KPI_THRESHOLDS)

    @property
    def voltage_thd_limit_pct(self) -> float:
        return self.thresholds.voltage_thd_max_pct(self.nominal_v)


def _per_phase(x, name: str, T: int | None, split: bool) -> np.ndarray:
    """(T,) totals split equally over 3 phases, or (T, 3) as given -> (T, 3)."""
    a = np.asarray(x, dtype=float)
    if a.ndim == 0:
        a = np.full(T if T is not None else 1, float(a))
    if a.ndim == 1:
        a = np.repeat(a[:, None] / (3.0 if split else 1.0), 3, axis=1)
    if a.ndim != 2 or a.shape[1] != 3 or (T is not None and a.shape[0] != T):
        raise ValueError(f"{name} must have shape (T,) or (T, 3) with T={T}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def grid_kpis(conn: GridConnection, base_kw, ev_kw_per_phase, pv_kw, ev_kvar=None,
              ev_current_a=None, frequency_hz=None, thresholds: KpiThresholds = KPI_THRESHOLDS
              ) -> GridKpis:
    """KPIs of T steps.

    base_kw (T,) balanced three-phase base load; ev_kw_per_phase (T, 3) (a 1-phase charger loads
    one column); pv_kw (T,) balanced or (T, 3); ev_kvar (T,) total or (T, 3), positive =
    consumed (inductive); ev_current_a (T, 3) operating current per charger on each phase, if
    known (else estimated, see harmonics.per_charger_current_a); frequency_hz (T,) measured or
    simulated, passed through.
    """
    ev = np.asarray(ev_kw_per_phase, dtype=float)
    if ev.ndim != 2 or ev.shape[1] != 3:
        raise ValueError(f"ev_kw_per_phase must have shape (T, 3), got {ev.shape}")
    T = ev.shape[0]
    ev = _per_phase(ev, "ev_kw_per_phase", T, split=False)
    base = _per_phase(base_kw, "base_kw", T, split=True)
    pv = _per_phase(pv_kw, "pv_kw", T, split=True)
    ev_q = np.zeros((T, 3)) if ev_kvar is None else _per_phase(ev_kvar, "ev_kvar", T, split=True)
    tan_phi = np.tan(np.arccos(conn.base_power_factor))
    p_w = (base + ev - pv) * 1e3  # (T, 3)
    q_var = (base * tan_phi + ev_q) * 1e3

    z = conn.impedance_ohm
    r, x = z.real, z.imag
    e_v = conn.source_voltage_pu * conn.nominal_v / np.sqrt(3.0)
    a = p_w * r + q_var * x
    b = p_w * x - q_var * r
    c = e_v**2 / 2.0 - a
    disc = c**2 - (a**2 + b**2)
    if np.any(disc < 0):
        log.warning("grid model: %d steps beyond the voltage-collapse limit (NaN voltage)",
                    int(np.sum(np.any(disc < 0, axis=1))))
    v2 = c + np.sqrt(np.where(disc >= 0, disc, np.nan))
    v_mag = np.sqrt(v2)  # (T, 3) phase-to-neutral volts
    delta = -np.arctan2(b, v2 + a)
    v_ph = v_mag * np.exp(1j * delta) * _PHASE_ROT  # (T, 3) complex

    v1 = (v_ph[:, 0] + _A * v_ph[:, 1] + _A**2 * v_ph[:, 2]) / 3.0
    v2_neg = (v_ph[:, 0] + _A**2 * v_ph[:, 1] + _A * v_ph[:, 2]) / 3.0
    vuf_pct = np.abs(v2_neg) / np.abs(v1) * 100.0
    v_ll = np.abs(v_ph - np.roll(v_ph, -1, axis=1))  # ab, bc, ca
    v_ll_mean = v_ll.mean(axis=1)
    nema_pct = np.max(np.abs(v_ll - v_ll_mean[:, None]), axis=1) / v_ll_mean * 100.0

    v_nom_ph = conn.nominal_v / np.sqrt(3.0)
    dev = (v_mag - v_nom_ph) / v_nom_ph * 100.0
    worst = np.argmax(np.abs(np.nan_to_num(dev)), axis=1)
    s_ph_va = np.hypot(p_w, q_var)
    i_ph_a = s_ph_va / v_mag
    p_tot, q_tot = p_w.sum(axis=1), q_var.sum(axis=1)
    s_tot = np.hypot(p_tot, q_tot)
    pf = np.where(s_tot > 1e-9, np.abs(p_tot) / np.where(s_tot > 1e-9, s_tot, 1.0), 1.0)

    # Harmonics, per phase.
    i_ev = np.hypot(ev, ev_q) * 1e3 / v_mag
    i_each = (harmonics.per_charger_current_a(i_ev, conn.charger_rated_current_a)
              if ev_current_a is None else _per_phase(ev_current_a, "ev_current_a", T, split=False))
    thd_ev = harmonics.charger_current_thd_pct(i_each, conn.charger_rated_current_a,
                                               conn.charger_thd_at_rated_pct,
                                               conn.charger_thd_exponent, conn.charger_thd_max_pct)
    i_base = np.hypot(base, base * tan_phi) * 1e3 / v_mag
    i_pv = np.abs(pv) * 1e3 / v_mag
    alpha = conn.harmonic_summation_exponent
    i_h = harmonics.combine(alpha, thd_ev / 100 * i_ev, conn.base_load_thd_pct / 100 * i_base,
                            conn.pv_thd_pct / 100 * i_pv)
    thd_i = np.where(i_ph_a > 1e-6, i_h / np.where(i_ph_a > 1e-6, i_ph_a, 1.0) * 100.0, 0.0)
    tdd = i_h / conn.rated_current_a * 100.0
    z_h = abs(complex(r, x * conn.harmonic_order_effective))
    thd_v_site = i_h * z_h / v_mag * 100.0
    thd_v = harmonics.combine(alpha, thd_v_site, conn.background_voltage_thd_pct)

    rows = np.arange(T)
    return GridKpis(
        nominal_v=conn.nominal_v,
        transformer_loading_pct=3.0 * s_ph_va.max(axis=1) / (conn.transformer_kva * 1e3) * 100.0,
        voltage_pu=np.abs(v1) / v_nom_ph,
        voltage_v=np.abs(v1) * np.sqrt(3.0),
        phase_voltage_v=v_mag,
        voltage_deviation_pct=dev[rows, worst],
        power_factor=pf,
        voltage_unbalance_pct=vuf_pct,
        voltage_unbalance_nema_pct=nema_pct,
        current_thd_pct=thd_i.max(axis=1),
        current_tdd_pct=tdd.max(axis=1),
        voltage_thd_pct=thd_v.max(axis=1),
        phase_current_a=i_ph_a,
        import_kw=p_tot / 1e3,
        reactive_kvar=q_tot / 1e3,
        frequency_hz=None if frequency_hz is None else np.asarray(frequency_hz, dtype=float),
        thresholds=thresholds,
    )
