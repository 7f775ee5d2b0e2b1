"""Demo-day report: one PNG per run and README.md from record.py's measured results.

Every number written comes from ``results.json`` (the API's load series and KPIs, the loop's
run times, the simulators' registers); nothing here simulates.
"""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from csms.machine import describe  # noqa: E402

SITE_TZ = ZoneInfo("Africa/Casablanca")
BASELINE = "no_control"
TITLES = {BASELINE: "No control (baseline)", "load_balancing": "Load balancing",
          "peak_shaving": "Peak shaving", "valley_filling": "Valley filling",
          "price_optimization": "Price optimisation", "grid_support": "Grid support",
          "renewable_integration": "Renewable integration"}
DPI = 90


def metrics(r: dict) -> dict:
    """Numbers of one run: load arrays are 60-s step means from ``GET .../load``."""
    load = r["load"]
    step_h = load["step_s"] / 3600.0
    imp = np.asarray(load["import_kw"], float)
    lim = np.asarray(load["limit_kw"], float)
    ev = np.asarray(load["ev_kw"], float)
    over = imp > lim + 1e-6
    gaps = np.asarray(r["run_gaps_s"], float)
    return {
        "ev_kwh": float(ev.sum() * step_h), "peak_import_kw": float(imp.max()),
        "max_margin_kw": float(np.max(imp - lim)), "limit_kw": float(lim.max()),
        "over_steps": int(over.sum()), "steps": int(imp.size),
        "cost_mad": float(r["kpis"]["cost"]["today_mad"]),
        "kpi_savings_mad": float(r["kpis"]["savings"]["today_mad"]),
        "kpi_peak_reduction_kw": float(r["kpis"]["savings"]["peak_reduction_kw"]),
        "gap_median_s": float(np.median(gaps)) if gaps.size else None,
        "gap_p95_s": float(np.percentile(gaps, 95)) if gaps.size else None,
        "gap_max_s": float(gaps.max()) if gaps.size else None,
        "physical_over": _physical_over(r, imp, lim, load),
    }


def _busy_import(baseline: dict, r: dict) -> float | None:
    """Mean import of run ``r`` over the steps where the no-control run was over the limit:
    demand exceeded the limit there, so a controller that wastes no capacity sits near it."""
    b_imp = np.asarray(baseline["load"]["import_kw"], float)
    b_lim = np.asarray(baseline["load"]["limit_kw"], float)
    imp = np.asarray(r["load"]["import_kw"], float)
    n = min(b_imp.size, imp.size)
    mask = b_imp[:n] > b_lim[:n] + 1e-6
    return float(imp[:n][mask].mean()) if mask.any() else None


def shortfall(baseline: dict, r: dict) -> tuple[int, int, float] | None:
    """Drivers who left in the window under both runs, matched by id tag in order of arrival
    (the site may give a driver another EVSE when arrivals and departures meet): (how many,
    how many got less than 95 % of their no-control energy, kWh they missed).
    The policies that defer charging (price, valley) are judged by this, not by the window's
    energy: a car that leaves with what it needed was not short-changed."""
    if "sessions" not in r or "sessions" not in baseline:
        return None
    base: dict[str, list[float]] = {}
    for _, _, tag, _, _, wh in sorted(baseline["sessions"], key=lambda row: row[3]):
        base.setdefault(tag, []).append(wh)
    n = short = 0
    missed_wh = 0.0
    for _, _, tag, _, _, wh in sorted(r["sessions"], key=lambda row: row[3]):
        queue = base.get(tag)
        if not queue:
            continue
        want = queue.pop(0)
        n += 1
        if wh < 0.95 * want:
            short += 1
            missed_wh += want - wh
    return n, short, missed_wh / 1000.0


def _physical_over(r: dict, imp: np.ndarray, lim: np.ndarray, load: dict) -> tuple[int, float]:
    """Cross-check on the simulators' own draw (sampled every 10 s): 60-s steps where
    physical EV + base - PV > limit, and the largest such import."""
    t0 = datetime.fromisoformat(load["timestamps"][0]).timestamp()
    step_s = load["step_s"]
    sums, counts = np.zeros(imp.size), np.zeros(imp.size)
    for ts, kw in r["physical_ev_kw"]:
        k = int((datetime.fromisoformat(ts).timestamp() - t0) // step_s)
        if 0 <= k < imp.size:
            sums[k] += kw
            counts[k] += 1
    ok = counts > 0
    phys = np.where(ok, sums / np.maximum(counts, 1), 0.0) + np.asarray(load["base_kw"]) \
        - np.asarray(load["pv_kw"])
    return int(np.sum(ok & (phys > lim + 1e-6))), float(np.max(np.where(ok, phys, -np.inf)))


def plot(r: dict, m: dict, path: Path) -> None:
    load = r["load"]
    t = [datetime.fromisoformat(s).astimezone(SITE_TZ) for s in load["timestamps"]]
    fig, ax = plt.subplots(figsize=(8.0, 3.4), dpi=DPI)
    ax.plot(t, load["import_kw"], color="black", lw=1.4, label="site import")
    ax.plot(t, load["ev_kw"], color="tab:blue", lw=1.0, label="EV load")
    ax.plot(t, load["base_kw"], color="tab:gray", lw=1.0, label="base load")
    ax.plot(t, load["pv_kw"], color="tab:orange", lw=1.0, label="PV")
    ax.step(t, load["limit_kw"], where="post", color="tab:red", lw=1.2, ls="--",
            label="site limit")
    ax.set_ylabel("kW")
    ax.set_ylim(bottom=0, top=max(m["peak_import_kw"], m["limit_kw"]) * 1.25)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=SITE_TZ))
    ax.grid(alpha=0.3)
    ax.set_title(f"{TITLES.get(r['policy'], r['policy'])}: peak import "
                 f"{m['peak_import_kw']:.1f} kW, EV {m['ev_kwh']:.0f} kWh, "
                 f"{m['over_steps']} min over the limit", fontsize=10)
    ax.legend(loc="upper right", fontsize=7, ncol=5)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def _short(sf: tuple[int, int, float] | None, policy: str) -> str:
    if sf is None or policy == BASELINE:
        return ""
    n, short, kwh = sf
    return f"{short} of {n} ({kwh:.1f} kWh)"


def _fmt(x: float | None, nd: int = 0) -> str:
    return "-" if x is None else f"{x:,.{nd}f}"


def write(out: Path, raw: dict) -> None:
    cfg = raw["config"]
    runs = raw["results"]
    ms = {r["policy"]: metrics(r) for r in runs}
    by = {r["policy"]: r for r in runs}
    if BASELINE in by:
        for r in runs:
            ms[r["policy"]]["busy_import_kw"] = _busy_import(by[BASELINE], r)
            ms[r["policy"]]["shortfall"] = shortfall(by[BASELINE], r)
    for r in runs:
        plot(r, ms[r["policy"]], out / f"{r['policy']}.png")
    base = ms.get(BASELINE)
    cmd = ".venv/bin/python docs/demo-day/record.py" + (
        " " + shlex.join(raw["argv"]) if raw["argv"] else "")
    lines = [
        "# A recorded demo day: site load against the limit, per policy",
        "",
        f"Recorded {raw.get('recorded_at') or datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} "
        f"on {raw.get('machine') or describe()}.",
        f"Code: commit {raw.get('git', 'unknown')}. Seed {cfg['seed']}. Command (from the "
        "repository root):",
        "", "```", cmd, "```", "",
        _setup(cfg, runs),
        "",
        "## Summary",
        "",
        "EV energy, peak and steps over the limit are from `GET /api/v1/sites/{id}/load` "
        "(60-s means) over the window; cost is `GET /api/v1/sites/{id}/kpis` `cost.today_mad` "
        "(site import from local midnight to the end of the window, ONEE tariff); savings are "
        "the no-control run's cost minus the policy's, on the same arrivals (same seed). "
        "Drivers left short: of the drivers who left within the window in both runs (same "
        "id tag, in order of arrival), those who got less than 95 % of the energy they got "
        "without control, and the kWh they missed (simulators' ledgers). Oracle: `csms "
        "evaluate --oracle` for the policy (load balancing for no control) on the run's own "
        "arrivals as `csms-sim --record` writes them (each car capped by what its battery and "
        "charger take over its stay), with the site's base load and PV and its per-phase "
        "limit (a third of the connection, each car on the grid phases its charger's wiring "
        "puts it on), at 60-s periods: the most the policy could deliver knowing every car "
        "in advance.",
        "",
        "| policy | EV energy kWh | oracle kWh | of oracle | vs no control | peak import kW "
        "| max import - limit kW | 60-s steps over limit | mean import when no control > limit kW "
        "| cost MAD | savings vs no control MAD | drivers left short |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        m = ms[r["policy"]]
        rel = f"{(m['ev_kwh'] / base['ev_kwh'] - 1) * 100:+.1f} %" if base else "-"
        sav = f"{base['cost_mad'] - m['cost_mad']:.1f}" if base else "-"
        if r["policy"] == BASELINE:
            rel, sav = "", ""
        oracle = r.get("oracle_kwh")
        share = f"{m['ev_kwh'] / oracle * 100:.1f} %" if oracle else "-"
        lines.append(f"| {r['policy']} | {m['ev_kwh']:.1f} | {_fmt(oracle, 1)} | {share} "
                     f"| {rel} | {m['peak_import_kw']:.1f} "
                     f"| {m['max_margin_kw']:+.1f} | {m['over_steps']} / {m['steps']} "
                     f"| {_fmt(m.get('busy_import_kw'), 1)} | {m['cost_mad']:.1f} | {sav} "
                     f"| {_short(m.get('shortfall'), r['policy'])} |")
    lines += ["", _reading(ms, base), ""]
    for r in runs:
        lines += _section(r, ms[r["policy"]], base)
    lines += _problems(runs)
    notes = out / "notes.md"  # hand-written findings with their own commands (kept as is)
    if notes.exists():
        lines += ["", notes.read_text().rstrip()]
    (out / "README.md").write_text("\n".join(lines) + "\n")


def _setup(cfg: dict, runs: list[dict]) -> str:
    wall = sum(r["wall_s"] for r in runs)
    day = datetime.fromisoformat(cfg["day"]).strftime("%A %d %B %Y")
    return "\n".join([
        "## Set-up",
        "",
        f"- Site: {cfg['capacity_kw']:g} kW limit on the import, office base load peaking at "
        f"{cfg['base_load_peak_kw']:g} kW, {cfg['pv_kwp']:g} kWp PV (Casablanca), tariff "
        "`onee-default`.",
        f"- {cfg['chargers']} simulated chargers (`simulators/`), OCPP 1.6 and 2.0.1 "
        f"alternating, hardware shares `{cfg['hardware']}`, 2 EVSEs each, phase wiring "
        "rotated from one charger to the next (L1L2L3, L2L3L1, L3L1L2: each phase of the "
        f"connection carries at most {cfg['capacity_kw'] / 3:g} kW); arrivals, stays and "
        f"energy from the `{cfg['profile']}` profile (ACN-Data) x {cfg['sessions_scale']:g}, "
        "seeded: every run gets the same drivers. Half of the AC cars (ISO 15118) announce "
        "departure and energy; for the others the CSMS assumes "
        f"{cfg['default_energy_kwh']:g} kWh and a {cfg['default_dwell_s'] / 3600:g} h stay.",
        f"- {day}, {cfg['from_h']:g}:00 to {cfg['to_h']:g}:00 local time, clock sped up "
        f"{cfg['speed']:g}x (CSMS and simulators on one clock, one process). Control period "
        f"{cfg['control_period_s']} s, TxProfile lease {cfg['lease_s']:g} s. Total wall time "
        f"of the runs: {wall / 60:.1f} min.",
        "- Each run has its own fresh SQLite store and a complete in-process CSMS (gateway, "
        "store writer, control loop; the REST API read through its ASGI app). "
        "`no_control` is the same CSMS without its control loop: no profile is ever sent and "
        "every car draws what its charger and battery allow.",
    ])


def _reading(ms: dict, base: dict | None) -> str:
    over = [p for p, m in ms.items() if p != BASELINE and m["over_steps"]]
    phys = {p: m["physical_over"][0] for p, m in ms.items() if p != BASELINE}
    if not over and not any(phys.values()):
        text = ("Measured: every controlled policy kept the site import at or under the limit "
                "in every 60-s step, in the API's series and on the chargers' physical draw.")
    else:
        text = ("Measured: steps over the limit in the API's series: "
                + (", ".join(f"{p} {ms[p]['over_steps']}" for p in over) or "none")
                + "; on the chargers' physical draw (+ base - PV): "
                + (", ".join(f"{p} {n}" for p, n in phys.items() if n) or "none")
                + ". The API derives EV power from 60-s energy registers, which spreads a "
                "change over its meter interval (see 'Findings').")
    busy = {p: m["busy_import_kw"] for p, m in ms.items()
            if p != BASELINE and m.get("busy_import_kw") is not None}
    if base is not None and busy:
        lo, hi = min(busy, key=busy.get), max(busy, key=busy.get)
        text += (f" In the steps where the no-control run was over the limit (drivers wanted "
                 f"more than {base['limit_kw']:g} kW), the controlled runs imported "
                 f"{busy[lo]:.1f} ({lo}) to {busy[hi]:.1f} ({hi}) kW on average. Policies "
                 "that defer charging to cheaper or emptier hours import less there on "
                 "purpose; 'drivers left short' says whether anyone paid for it.")
    return text


def _section(r: dict, m: dict, base: dict | None) -> list[str]:
    k = r["kpis"]
    p = r["policy"]
    phys_n, phys_max = m["physical_over"]
    lines = [f"## {TITLES.get(p, p)}", "", f"![{p}]({p}.png)", "",
             f"- Sessions started {r['sessions_started']} (turned away {r['turned_away']}); "
             f"EV energy {m['ev_kwh']:.1f} kWh from the API, {r['simulators_kwh']:.1f} kWh on "
             "the simulators' own registers.",
             f"- Peak import {m['peak_import_kw']:.1f} kW against {m['limit_kw']:g} kW; "
             f"{m['over_steps']} of {m['steps']} 60-s steps over the limit. Cross-check on the "
             f"chargers' physical draw (10-s samples, 60-s means, + base - PV): {phys_n} steps "
             f"over, largest {phys_max:.1f} kW.",
             f"- Cost {m['cost_mad']:.1f} MAD (`/kpis`); the CSMS's own estimate of today's "
             f"savings against an uncontrolled replay of these sessions: "
             f"{m['kpi_savings_mad']:.1f} MAD, peak reduction "
             f"{m['kpi_peak_reduction_kw']:.1f} kW.",
             f"- Grid KPIs (`/kpis`): max transformer loading "
             f"{_fmt(k['grid']['max_transformer_loading_pct'], 1)} %, min voltage "
             f"{_fmt(k['grid']['min_voltage_pu'], 3)} pu.",
             f"- Wall time {r['wall_s']:.0f} s."]
    if p != BASELINE:
        lines.append(f"- Control loop: {r['loop_runs']} runs; simulated time between runs "
                     f"median {_fmt(m['gap_median_s'])} s, 95th percentile "
                     f"{_fmt(m['gap_p95_s'])} s, max {_fmt(m['gap_max_s'])} s.")
    return [*lines, ""]


def _problems(runs: list[dict]) -> list[str]:
    counts: dict[str, dict[str, int]] = {}
    for r in runs:
        for key, n in r.get("warnings", {}).items():
            counts.setdefault(key, {})[r["policy"]] = n
    lines = ["## CSMS warnings during the runs", ""]
    if not counts:
        return [*lines, "None.", ""]
    lines += ["| warning (logger: template) | runs: count |", "|---|---|"]
    for key, per in sorted(counts.items(), key=lambda kv: -sum(kv[1].values())):
        text = key.replace("|", "\\|")
        lines.append(f"| `{text}` | {', '.join(f'{p} {n}' for p, n in per.items())} |")
    return [*lines, ""]
