"""1,000 simulated chargers in one process against a server, with CPU and memory.

The server runs in a subprocess: the real gateway (`csms serve --open`, fresh SQLite) when it
starts, else a bare ``ocpp``-library central system (tests/simulators/central.py). The numbers
are for the simulator process only (this one): CPU time from getrusage, RSS from /proc.
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

CHARGERS = int(os.environ.get("BENCH_SIM_CHARGERS", "1000"))
SPEED = 10.0
STEADY_S = 45.0
PLUGGED_SHARE = 0.5  # EVSEs charging during the steady phase
START = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


def _rss_mib(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start(cmd: list[str], pattern: str, timeout_s: float = 60.0):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    found: dict[str, str] = {}
    ready = threading.Event()

    def pump() -> None:
        for line in proc.stdout:
            if "url" not in found and (m := re.search(pattern, line)):
                found["url"] = m.group(1)
                ready.set()
        ready.set()
    threading.Thread(target=pump, daemon=True).start()
    ready.wait(timeout_s)
    if "url" not in found:
        proc.kill()
        return None, None
    return proc, found["url"]


def _server(tmp: str):
    db = f"sqlite:///{tmp}/bench.db"
    py = sys.executable
    csms = subprocess.run([py, "-m", "csms.cli", "db", "upgrade", "--database-url", db],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    if csms.returncode == 0:
        proc, url = _start([py, "-m", "csms.cli", "serve", "--open", "--database-url", db,
                            "--no-migrate", "--http-port", "0", "--ocpp-port", "0", "--speed",
                            str(SPEED), "--start", START.isoformat(), "--log-level", "WARNING"],
                           r"OCPP gateway: (ws://[\d.]+:\d+)/ocpp/")
        if proc is not None:
            return proc, f"{url}/ocpp", "csms serve --open (SQLite)"
    proc, url = _start([py, "-m", "benchmarks.bench_simulators", "--central"],
                       r"CENTRAL (ws://\S+)")
    return proc, url, "bare ocpp-library central system"


async def _measure(url: str, server_pid: int) -> dict:
    import ocpp.messages

    from simulators.charger.link import BackOff
    from simulators.clock import SimClock
    from simulators.ev import EV
    from simulators.site import Site
    from simulators.vehicles import FleetMix

    ocpp.messages.ASYNC_VALIDATION = False
    rss0 = _rss_mib()
    site = Site(url, CHARGERS, "commercial", "mixed", SimClock(SPEED, START), seed=1,
                sessions_scale=0.0, backoff=BackOff(1.0, 5.0, 3))
    out: dict = {"server": None}
    t0, cpu0, srv0 = time.monotonic(), _cpu_s(), _proc_cpu_s(server_pid)
    task = asyncio.ensure_future(site.run())
    while sum(c.connected.is_set() for c in site.chargers) < CHARGERS:
        await asyncio.sleep(0.1)
        if time.monotonic() - t0 > 600:
            break
    out["connected"] = sum(c.connected.is_set() for c in site.chargers)
    out["connect_s"] = time.monotonic() - t0
    out["connect_cpu_s"] = _cpu_s() - cpu0
    await asyncio.sleep(2.0)
    rng_mix = FleetMix.default()
    import random

    rng = random.Random(1)
    plugged = 0
    for c in site.chargers:
        for e in c.evses:
            if rng.random() < PLUGGED_SHARE:
                spec = rng_mix.sample(rng, dc_only=c.type.kind == "DC")
                c.plug_in(e.id, EV(spec, soc_pct=20.0, target_soc_pct=95.0),
                          f"BENCH-{plugged:05d}", dwell_s=4 * 3600)
                plugged += 1
    out["plugged"] = plugged
    await asyncio.sleep(5.0)
    sent0 = sum(c.outbox.sent for c in site.chargers)
    t1, cpu1, srv1 = time.monotonic(), _cpu_s(), _proc_cpu_s(server_pid)
    rss_peak = _rss_mib()
    while time.monotonic() - t1 < STEADY_S:
        await asyncio.sleep(1.0)
        rss_peak = max(rss_peak, _rss_mib())
    wall = time.monotonic() - t1
    out["steady_wall_s"] = wall
    out["msgs_per_s"] = (sum(c.outbox.sent for c in site.chargers) - sent0) / wall
    out["cpu_pct"] = 100 * (_cpu_s() - cpu1) / wall
    out["server_cpu_pct"] = 100 * (_proc_cpu_s(server_pid) - srv1) / wall
    out["server_cpu_connect_s"] = srv1 - srv0
    out["rss_mib"] = rss_peak
    out["rss_per_charger_kib"] = (rss_peak - rss0) * 1024 / CHARGERS
    out["queued"] = sum(c.outbox.pending_transactional for c in site.chargers)
    out["charging"] = site.summary()["charging"]
    out["site_kw"] = site.summary()["site_kw"]
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return out


def run() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        proc, url, kind = _server(tmp)
        if proc is None:
            return "## Simulators\n\nNo server could be started; nothing measured.\n"
        try:
            m = asyncio.run(_measure(url, proc.pid))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    rows = [
        ("Server", kind),
        ("Chargers (mixed 1.6 / 2.0.1, commercial site)", f"{CHARGERS}"),
        ("Connected", f"{m['connected']}"),
        ("Connect + boot + status, wall", f"{m['connect_s']:.1f} s"),
        ("Connect phase CPU (simulator process)", f"{m['connect_cpu_s']:.1f} s"),
        ("EVs charging in the steady phase", f"{m['plugged']} plugged, {m['charging']} charging, "
                                              f"{m['site_kw']:.0f} kW"),
        ("Clock speed / meter interval", f"{SPEED:g}x / 60 s simulated"),
        ("Steady phase", f"{m['steady_wall_s']:.0f} s wall"),
        ("Messages sent by the chargers", f"{m['msgs_per_s']:.0f} /s"),
        ("Simulator CPU (one process)", f"{m['cpu_pct']:.0f} % of one core"),
        ("Server CPU during the steady phase", f"{m['server_cpu_pct']:.0f} % of one core"),
        ("Simulator peak RSS", f"{m['rss_mib']:.0f} MiB"),
        ("RSS per simulated charger", f"{m['rss_per_charger_kib']:.0f} KiB"),
        ("Transaction messages still queued at the end", f"{m['queued']}"),
    ]
    lines = ["## Simulators: 1,000 chargers in one process", "",
             "`benchmarks/bench_simulators.py`: the simulator process holds every charger "
             "(websocket, outbox, EV physics, profile store); the server is a subprocess.", "",
             "| Measure | Value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(lines) + "\n"


async def _central_main() -> None:
    sys.path.insert(0, str(ROOT))
    from tests.simulators.central import running_central

    async with running_central() as central:
        print(f"CENTRAL {central.url}", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    if sys.argv[1:] == ["--central"]:
        import ocpp.messages

        ocpp.messages.ASYNC_VALIDATION = False
        asyncio.run(_central_main())
    else:
        print(run())
