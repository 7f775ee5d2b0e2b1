"""`csms evaluate` through csms.cli.main and as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from csms.charging import POLICIES
from csms.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "csms" / "data" / "scenarios" / "office-day.json"
ACN_SAMPLE = ROOT / "csms" / "data" / "acn" / "acn-caltech-2019-10-07.csv"


def test_json_output_shape_and_savings(capsys):
    assert main(["evaluate", str(SCENARIO), "--oracle", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mode"] == "oracle" and out["period_s"] == 900
    assert set(out["results"]) == set(POLICIES)
    base = out["results"]["uncontrolled"]
    for name, r in out["results"].items():
        assert r["energy_delivered_kwh"] <= r["energy_requested_kwh"] + 1e-6
        assert r["savings_mad"] == pytest.approx(base["cost_mad"] - r["cost_mad"])
        assert len(r["sessions"]) == 20
        assert all(len(s["power_kw"]) == 96 for s in r["sessions"].values())
        if name != "uncontrolled":
            assert r["site_limit_exceeded_periods"] == 0
            # Every controlled policy delivers as much as the best of them.
            assert r["energy_delivered_kwh"] == pytest.approx(
                out["results"]["load_balancing"]["energy_delivered_kwh"], rel=1e-6)


def test_table_and_plot(tmp_path, capsys):
    png = tmp_path / "load.png"
    assert main(["evaluate", str(SCENARIO), "--policy", "peak_shaving", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "| peak_shaving |" in out and "mode online" in out
    assert "| uncontrolled |" not in out
    assert png.stat().st_size > 1000


def test_sessions_csv(capsys):
    assert main(["evaluate", "--sessions", str(ACN_SAMPLE), "--policy", "price_optimization",
                 "--oracle", "--json", "--chargers", "10", "--capacity-kw", "40",
                 "--days", "1", "--start", "2019-10-07"]) == 0
    out = json.loads(capsys.readouterr().out)
    r = out["results"]["price_optimization"]
    assert 0 < len(r["sessions"]) <= 40
    assert r["peak_kw"] <= 40 + 1e-6


@pytest.mark.parametrize("argv", [
    ["evaluate"],
    ["evaluate", str(SCENARIO), "--sessions", str(ACN_SAMPLE)],
    ["evaluate", str(SCENARIO), "--policy", "nope"],
    ["evaluate", "/nonexistent.json"],
])
def test_bad_input_exits_2(argv, capsys):
    assert main(argv) == 2
    assert "csms evaluate" in capsys.readouterr().err


def test_subprocess():
    done = subprocess.run([sys.executable, "-m", "csms.cli", "evaluate", str(SCENARIO),
                           "--policy", "valley_filling", "--oracle", "--json"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["results"]["valley_filling"]["peak_kw"] > 0
