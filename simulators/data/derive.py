"""Developer tool: derive the small tables in simulators/data/ from /work/shared/data.

Run once by a developer (``python -m simulators.data.derive /path/to/shared/data``); the product
never reads the shared directory at run time, only the JSON files this script writes:

- ``vehicles.json``: the brief's 14 vehicles, specs and DC curves from open-ev-data (MIT),
- ``csms/data/vehicles/models.json``: the same 14 models as the CSMS's vehicle catalogue (the
  facts the registry and the planner use, in W and Wh; no curves). Written by this tool, not
  imported: the simulators stay independent of the CSMS and the CSMS of them,
- ``arrivals.json``: per-profile arrival shares per 15 min (weekday/weekend), dwell-time and
  energy quantiles; office from ACN-Data (CC BY 4.0), residential/commercial from ElaadNL via
  ev2gym (MIT).
"""

from __future__ import annotations

import csv
import gzip
import json
import sys
from datetime import datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CSMS_MODELS = HERE.parents[1] / "csms" / "data" / "vehicles" / "models.json"
CITATION = ("open-ev-data (https://github.com/chargeprice/open-ev-data), snapshot 2021-09-09, "
            "MIT licence. Corrections to the brief's table are in each vehicle's note: Twingo "
            "E-Tech 22 kW AC and no DC; Tesla Model 3 and Model S no V2G; Nissan Leaf V2G over "
            "CHAdeMO; Mercedes eVito 90 kWh is the Tourer/EQV; Iveco eDaily 105 kWh is the "
            "3-battery usable figure.")

# (segment, name, open-ev-data id prefix or None, overrides)
FLEET = [
    ("urban", "Dacia Spring", "db0f0c27", {}),
    ("urban", "Renault Twingo E-Tech", "46e4f46b",
     {"note": "open-ev-data lists it as Twingo Z.E. 22 kWh: 22 kW AC 3-phase, no DC charging "
              "(correction to the brief, which said 7 kW AC / 22 kW DC)"}),
    ("urban", "Peugeot e-208", "de7bac96", {}),
    ("urban", "Fiat 500e", "22f521ce", {}),
    ("mixed", "Tesla Model 3", "93c82e06", {"note": "Standard Range Plus; no V2G"}),
    ("mixed", "BMW i3", "dbf24ffc", {}),
    ("mixed", "Nissan Leaf", "77028f96", {"v2g": True, "note": "40 kWh; V2G over CHAdeMO is real"}),
    ("mixed", "Hyundai Kona", "c1fd1277", {}),
    ("commercial", "Renault Kangoo E-Tech", None,
     {"capacity_kwh": 45.0, "ac_phases": 3, "ac_max_power_kw": 11.0, "dc_max_power_kw": 80.0,
      "note": "not in the open-ev-data snapshot (2021-09): usable 45 kWh and 80 kW DC from the "
              "maker's data sheet; 11 kW AC standard (22 kW optional); generic DC curve"}),
    ("commercial", "Mercedes eVito", "6bbd3cdd",
     {"note": "90 kWh applies to the Tourer/EQV variant: open-ev-data EQV 300 Long"}),
    ("commercial", "Iveco eDaily", None,
     {"capacity_kwh": 105.0, "ac_phases": 3, "ac_max_power_kw": 11.0, "dc_max_power_kw": 80.0,
      "note": "not in the open-ev-data snapshot: 105 kWh is the 3-battery usable figure; 11 kW AC "
              "standard (22 kW optional), 80 kW DC from the maker's data sheet; generic DC curve"}),
    ("premium", "Tesla Model S", "1e752c58", {"note": "Long Range (Raven); no V2G"}),
    ("premium", "Audi e-tron GT", "4c04db3b",
     {"dc_voltage_v": 800.0,
      "note": "not in the open-ev-data snapshot; proxy: Porsche Taycan Turbo S (same J1 platform, "
              "83.7 kWh usable, 270 kW DC, 11 kW AC, 800 V)"}),
    ("premium", "Mercedes EQS", None,
     {"capacity_kwh": 107.8, "ac_phases": 3, "ac_max_power_kw": 11.0, "dc_max_power_kw": 200.0,
      "note": "not in the open-ev-data snapshot: EQS 450+ 107.8 kWh usable, 200 kW DC, 11 kW AC "
              "(22 kW optional) from the maker's data sheet; generic DC curve"}),
]

# Shape of open-ev-data's default curves (0 % -> 95 % of max, 75 % -> max, 100 % -> AC max),
# used only where the vehicle is missing from the snapshot.
GENERIC_CURVE = [(0.0, 0.95), (75.0, 1.0), (100.0, None)]


def _label(src: dict) -> str:
    return " ".join(str(src[k]).strip() for k in ("brand", "model", "variant") if src.get(k))


def vehicles(shared: Path) -> dict:
    data = json.loads((shared / "vehicles" / "open-ev-data.json").read_text())["data"]
    out = []
    for segment, name, prefix, over in FLEET:
        rec: dict = {"name": name, "segment": segment, "v2g": False, "dc_voltage_v": 400.0}
        if prefix:
            src = next(v for v in data if v["id"].startswith(prefix))
            dc = src.get("dc_charger") or {}
            rec.update(
                source=f"open-ev-data {src['id']} ({_label(src)})",
                capacity_kwh=src["usable_battery_size"],
                ac_phases=src["ac_charger"]["usable_phases"],
                ac_max_power_kw=src["ac_charger"]["max_power"],
                dc_max_power_kw=dc.get("max_power"),
                dc_curve=[[p["percentage"], p["power"]] for p in dc.get("charging_curve") or []],
                dc_curve_is_default=bool(dc.get("is_default_charging_curve")),
            )
        else:
            rec["source"] = "maker data sheet (see note)"
        rec.update(over)
        if not rec.get("dc_curve") and rec.get("dc_max_power_kw"):
            top = rec["dc_max_power_kw"]
            rec["dc_curve"] = [[s, round(top * f, 1) if f else rec["ac_max_power_kw"]]
                               for s, f in GENERIC_CURVE]
            rec["dc_curve_is_default"] = True
        rec.setdefault("dc_curve", [])
        out.append(rec)
    return {
        "licence": "MIT (open-ev-data by chargeprice); vehicles marked maker data sheet are facts, not copied text",
        "citation": CITATION,
        "default_mix_pct": {"urban": 45, "mixed": 35, "commercial": 12, "premium": 8},
        "default_mix_note": "Assumption for the Moroccan market (small urban cars such as the "
                            "Dacia Spring dominate; a few premium cars); not measured data.",
        "vehicles": out,
    }


def csms_models(fleet: dict) -> dict:
    """The CSMS's catalogue: the facts of each model the registry copies into a vehicle."""
    return {
        "licence": fleet["licence"],
        "citation": fleet["citation"],
        "units": "battery_wh: usable capacity; ac_max_w: onboard charger; dc_max_w: 0 = no DC",
        "models": [{
            "name": v["name"],
            "segment": v["segment"],
            "battery_wh": round(v["capacity_kwh"] * 1000.0),
            "ac_phases": int(v["ac_phases"]),
            "ac_max_w": round(v["ac_max_power_kw"] * 1000.0),
            "dc_max_w": round((v.get("dc_max_power_kw") or 0.0) * 1000.0),
            "v2g": bool(v["v2g"]),
            "source": v["source"],
            "note": v.get("note"),
        } for v in fleet["vehicles"]],
    }


def _quantiles(values: np.ndarray) -> list[float]:
    """Quantiles at 0, 1, ..., 100 % of a sample, shape (101,)."""
    return [round(float(q), 3) for q in np.percentile(values, np.arange(101))]


def acn_office(shared: Path) -> dict:
    arrivals: list[datetime] = []
    dwell_h, energy = [], []
    for f in sorted((shared / "acn").glob("*.csv.gz")):
        with gzip.open(f, "rt") as fh:
            for row in csv.DictReader(fh):
                a = datetime.fromisoformat(row["arrival"])
                d = datetime.fromisoformat(row["departure"])
                arrivals.append(a)
                dwell_h.append((d - a).total_seconds() / 3600)
                energy.append(float(row["delivered_energy (kWh)"]))
    wd = np.zeros(96)
    we = np.zeros(96)
    days: dict[bool, set] = {True: set(), False: set()}
    for a in arrivals:  # local time of the garage: the shape of a workplace day
        slot = a.hour * 4 + a.minute // 15
        weekend = a.weekday() >= 5
        (we if weekend else wd)[slot] += 1
        days[weekend].add(a.date())
    n_days_wd = max(1, len(days[False]))
    n_days_we = max(1, len(days[True]))
    # ACN-Data has ~54 EVSEs in the garage; sessions per EVSE per day is the arrival rate.
    evses = 54
    return {
        "source": "ACN-Data (Caltech garage), 2019-05..2021-08; CC BY 4.0. Z. J. Lee, T. Li, "
                  "S. H. Low, 'ACN-Data: Analysis and Applications of an Open EV Charging "
                  "Dataset', ACM e-Energy 2019.",
        "sessions": len(arrivals),
        "arrival_share_weekday_pct": [round(x, 4) for x in 100 * wd / wd.sum()],
        "arrival_share_weekend_pct": [round(x, 4) for x in 100 * we / we.sum()],
        "sessions_per_charger_per_day_weekday": round(wd.sum() / n_days_wd / evses, 3),
        "sessions_per_charger_per_day_weekend": round(we.sum() / n_days_we / evses, 3),
        "dwell_h_quantiles": _quantiles(np.clip(np.array(dwell_h), 0.1, 24)),
        "energy_kwh_quantiles": _quantiles(np.clip(np.array(energy), 0.5, 100)),
    }


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def elaad(shared: Path, column: str, sessions_per_day: float) -> dict:
    d = shared / "elaad"
    head, rows = _read_csv(d / "distribution-of-arrival.csv")
    wd = [float(r[head.index(column)]) for r in rows]
    head_we, rows_we = _read_csv(d / "distribution-of-arrival-weekend.csv")
    we = [float(r[head_we.index(column)]) for r in rows_we]

    def table(name: str) -> list[float]:
        h, rs = _read_csv(d / name)
        # Rows: upper percentile p (0..99) -> value exceeded by p % of events (hours or kWh).
        by_p = {int(r[0]): float(r[h.index(column)]) for r in rs}
        upper = [by_p[p] for p in range(100)] + [0.0]
        q = list(reversed(upper))  # quantile at 0..100 %
        return [round(x, 3) for x in q]

    return {
        "source": "ElaadNL open statistics (Netherlands), as redistributed in ev2gym 2.0.0; MIT "
                  f"licence. Column '{column}'.",
        "arrival_share_weekday_pct": [round(100 * x / sum(wd), 4) for x in wd],
        "arrival_share_weekend_pct": [round(100 * x / sum(we), 4) for x in we],
        "sessions_per_charger_per_day_weekday": sessions_per_day,
        "sessions_per_charger_per_day_weekend": sessions_per_day,
        "sessions_per_charger_per_day_note": "assumption (ElaadNL gives shapes, not rates)",
        "dwell_h_quantiles": [max(0.25, x) for x in table("distribution-of-connection-time.csv")],
        "energy_kwh_quantiles": [max(0.5, x) for x in table("distribution-of-energy-demand.csv")],
    }


def highway() -> dict:
    """A model, not data: two travel peaks (late morning, late afternoon), more at weekends."""
    slots = np.arange(96) / 4.0
    wd = 0.3 + 2.0 * np.exp(-0.5 * ((slots - 11.5) / 1.8) ** 2) \
        + 2.5 * np.exp(-0.5 * ((slots - 17.5) / 2.0) ** 2)
    wd[(slots < 5) | (slots >= 23)] = 0.15
    we = 0.3 + 3.0 * np.exp(-0.5 * ((slots - 12.0) / 2.5) ** 2) \
        + 2.0 * np.exp(-0.5 * ((slots - 18.0) / 2.0) ** 2)
    return {
        "source": "model (no open data): bimodal travel peaks 11:30 and 17:30 on weekdays; dwell "
                  "is the DC charge from arrival SoC 10-35 % to 80 % plus 5-15 min",
        "arrival_share_weekday_pct": [round(x, 4) for x in 100 * wd / wd.sum()],
        "arrival_share_weekend_pct": [round(x, 4) for x in 100 * we / we.sum()],
        "sessions_per_charger_per_day_weekday": 8.0,
        "sessions_per_charger_per_day_weekend": 10.0,
        "arrival_soc_pct_range": [10, 35],
        "target_soc_pct": 80,
    }


def main(argv: list[str]) -> int:
    shared = Path(argv[0] if argv else "/work/shared/data")
    fleet = vehicles(shared)
    (HERE / "vehicles.json").write_text(json.dumps(fleet, indent=1) + "\n")
    CSMS_MODELS.parent.mkdir(parents=True, exist_ok=True)
    CSMS_MODELS.write_text(json.dumps(csms_models(fleet), indent=1, ensure_ascii=False) + "\n")
    arrivals = {
        "licences": {
            "office": "CC BY 4.0 (ACN-Data)",
            "residential": "MIT (ev2gym, ElaadNL statistics)",
            "commercial": "MIT (ev2gym, ElaadNL statistics)",
            "highway": "model, Apache-2.0 with this project",
        },
        "slot_minutes": 15,
        "office": acn_office(shared),
        "residential": elaad(shared, "private", 1.0),
        "commercial": elaad(shared, "public", 1.8),
        "highway": highway(),
    }
    (HERE / "arrivals.json").write_text(json.dumps(arrivals, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
