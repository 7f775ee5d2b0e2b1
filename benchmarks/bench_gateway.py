"""Gateway throughput: N chargers over loopback, validated-and-persisted messages per second.

The CSMS (`csms serve` on a fresh SQLite database, in its own process) and a bare ``ocpp``
library server with the library's defaults are measured in the same run with the same client.
Two loads per server: paced (each charger sends one message per second: the fleet's real load)
and saturated (each charger sends its next message as soon as the reply arrives).
"""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text

from benchmarks.load import drive, open_chargers

CHARGERS = int(os.environ.get("BENCH_CHARGERS", "1000"))
DURATION_S = float(os.environ.get("BENCH_DURATION_S", "20"))
# 0.9 s between messages per charger: 1,000 chargers offer about 1,100 messages/s.
PACED_INTERVAL_S = 0.9
ROOT = Path(__file__).resolve().parent.parent


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _start(cmd: list[str]) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    for line in proc.stdout:
        if line.startswith("OCPP gateway: "):
            url = line.split()[2].rsplit("/", 1)[0]
            return proc, url
    raise RuntimeError(f"server did not start: {cmd}")


async def _measure(cmd: list[str], compression: str | None) -> dict:
    proc, url = _start(cmd)
    try:
        await asyncio.sleep(1.0)
        rss0 = _rss_kib(proc.pid)
        conns = await open_chargers(url, CHARGERS, "BENCH", compression)
        await asyncio.sleep(2.0)
        per_conn_kib = (_rss_kib(proc.pid) - rss0) / CHARGERS
        paced = await drive(conns, DURATION_S, interval_s=PACED_INTERVAL_S)
        saturated = await drive(conns, DURATION_S, interval_s=0.0)
        await asyncio.gather(*(c.close() for c in conns))
        return {"per_conn_kib": per_conn_kib, "paced": paced, "saturated": saturated}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _row(name: str, load: str, r, per_conn_kib: float) -> str:
    return (f"| {name} | {load} | {r.chargers} | {r.rate_per_s:,.0f} | {r.pct_ms(50):.1f} | "
            f"{r.pct_ms(99):.1f} | {r.errors} | {per_conn_kib:.1f} |")


def run() -> str:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{tmp}/bench.db"
        csms_cmd = [sys.executable, "-m", "csms.cli", "serve", "--open", "--database-url",
                    db_url, "--http-port", "0", "--ocpp-port", "0", "--log-level", "WARNING",
                    "--no-control"]
        bare_cmd = [sys.executable, "-m", "benchmarks.bare_ocpp_server"]
        csms = asyncio.run(_measure(csms_cmd, None))
        bare = asyncio.run(_measure(bare_cmd, "deflate"))
        engine = create_engine(db_url)
        with engine.connect() as conn:
            samples = conn.execute(text("SELECT count(*) FROM meter_samples")).scalar()
        engine.dispose()
    sent_mv = round((csms["paced"].messages + csms["saturated"].messages) * 0.8)
    lines = [
        "## OCPP gateway throughput",
        "",
        f"{CHARGERS} OCPP 1.6 chargers over loopback, each alternating Heartbeat and MeterValues "
        "(4 sampled values) 1:4; client and server on the same 2-core machine; "
        f"{DURATION_S:.0f} s per load. `csms`: `csms serve --open` on SQLite, every message "
        "schema-validated and committed before it is answered. `bare ocpp`: the `ocpp` "
        "library's central system with its defaults (async validation, compression), no "
        "persistence. The smart-charging loop is off (`--no-control`): this measures the "
        "gateway and store, like the bare server; with it on, 1,000 chargers connecting at "
        "once also get capability probes and fail-safe profiles, measured in "
        "`bench_simulators`. Paced: each charger sends a message every 0.9 s. Saturated: each charger "
        "sends its next message when the reply arrives.",
        "",
        "| server | load | chargers | messages/s | p50 ms | p99 ms | errors | KiB/connection |",
        "|---|---|---|---|---|---|---|---|",
        _row("csms", "paced", csms["paced"], csms["per_conn_kib"]),
        _row("csms", "saturated", csms["saturated"], csms["per_conn_kib"]),
        _row("bare ocpp", "paced", bare["paced"], bare["per_conn_kib"]),
        _row("bare ocpp", "saturated", bare["saturated"], bare["per_conn_kib"]),
        "",
        f"Meter samples persisted by csms: {samples:,} (about {sent_mv:,} MeterValues x 4 "
        "sampled values sent).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
