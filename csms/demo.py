"""`make demo`: a fresh SQLite CSMS in demo mode and a 50-charger mixed site driving it.

One simulated day passes in 20 wall minutes (speed 72). The simulators get the CSMS's speed and
take its time from their BootNotification answers, as real chargers do. The site owns a fleet
(``--fleet``, default 40 vehicles for the 50 chargers; other drivers are visitors): its cars and
their RFID tags are registered in the CSMS (``csms vehicles import``) before the chargers start,
so the console knows which car is charging. Prints the console URL and a login; Ctrl-C stops
everything. Run ``python -m csms.demo --help`` for the knobs.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from csms.domain.model import Protocol

OCPP_RE = re.compile(r"OCPP gateway: (ws://[\w.\-\[\]:]+:\d+)/ocpp/")
HTTP_RE = re.compile(r"HTTP console: (http://[\w.\-\[\]:]+:\d+)/")
LOCAL_TZ = ZoneInfo("Africa/Casablanca")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m csms.demo", description=__doc__.splitlines()[0])
    p.add_argument("--db", default="demo.db", help="SQLite file, removed at start")
    p.add_argument("--speed", type=float, default=72.0, help="simulated s per wall s (72: a day "
                   "in 20 min)")
    p.add_argument("--start", help="simulated start, ISO 8601 (default: today 07:30 local, when the first drivers arrive)")
    p.add_argument("--chargers", type=int, default=50)
    p.add_argument("--profile", default="commercial",
                   choices=["office", "residential", "commercial", "highway"])
    p.add_argument("--protocol", default="mixed", choices=[Protocol.V16, Protocol.V201, "mixed"])
    p.add_argument("--v2g-share", type=float, default=0.1,
                   help="with mixed: share of OCPP 2.1 V2G chargers")
    p.add_argument("--faults", help="simulator faults, e.g. skew=0.33 (a third of the "
                   "chargers with a clock 10 min behind); see csms-sim --help")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--fleet", type=int, help="vehicles the site owns, registered in the CSMS "
                   "with their tags (default: 0.8 x --chargers; 0: visitors only)")
    p.add_argument("--http-port", type=int, default=8000)
    p.add_argument("--ocpp-port", type=int, default=9000)
    return p


def _run(cmd: list[str], stdin: str | None = None) -> str:
    out = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:5])} failed:\n{out.stdout}{out.stderr}")
    return out.stdout


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # ``kill``, ``timeout`` and service managers send SIGTERM (a closed terminal SIGHUP): stop
    # the CSMS and the simulators as Ctrl-C does. Python's default ends this process at once,
    # and the two children kept running, holding the demo's ports for the next ``make demo``.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    db = Path(args.db).resolve()
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db_url = f"sqlite:///{db}"
    start = args.start or datetime.now(LOCAL_TZ).replace(
        hour=7, minute=30, second=0, microsecond=0).isoformat()
    py = sys.executable
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    _run([py, "-m", "csms.cli", "db", "upgrade", "--database-url", db_url])
    password = secrets.token_urlsafe(12)
    _run([py, "-m", "csms.cli", "user", "add", "demo", "--role", "admin",
          "--database-url", db_url], stdin=password + "\n")
    # The site's own vehicles: drawn by the simulator (same seed and mix as its run), then
    # registered with their tags, before any charger connects.
    fleet_n = round(0.8 * args.chargers) if args.fleet is None else max(0, args.fleet)
    fleet_file = db.with_name(f"{db.stem}-fleet.json")
    if fleet_n:
        _run([py, "-m", "simulators", "--fleet", str(fleet_n), "--fleet-file", str(fleet_file),
              "--fleet-only", "--seed", str(args.seed)])
        _run([py, "-m", "csms.cli", "vehicles", "import", str(fleet_file),
              "--database-url", db_url])

    server = subprocess.Popen(
        [py, "-m", "csms.cli", "serve", "--open", "--database-url", db_url, "--no-migrate",
         "--http-port", str(args.http_port), "--ocpp-port", str(args.ocpp_port),
         "--speed", str(args.speed), "--start", start, "--log-level", "WARNING"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    found: dict[str, str] = {}
    ready = threading.Event()

    def pump() -> None:
        for line in server.stdout:
            if (m := OCPP_RE.search(line)):
                found["ocpp"] = m.group(1)
            if (m := HTTP_RE.search(line)):
                found["http"] = m.group(1)
            if len(found) == 2:
                ready.set()
            if "ERROR" in line or "Traceback" in line:
                sys.stderr.write("[csms] " + line)
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    sim = None
    try:
        if not ready.wait(60) or len(found) != 2:
            raise SystemExit("csms serve did not start (is port "
                             f"{args.http_port} or {args.ocpp_port} in use?)")
        day_min = 86_400 / args.speed / 60
        print(f"\nCSMS console:  {found['http']}/   (login: demo / {password})")
        print(f"OCPP gateway:  {found['ocpp']}/ocpp/{{charger_id}}")
        print(f"Demo clock:    starts {start}, speed {args.speed:g}x "
              f"(one day every {day_min:.0f} wall minutes)")
        print(f"Site:          {args.chargers} {args.protocol} chargers, profile {args.profile}")
        if fleet_n:
            print(f"fleet: {fleet_n} vehicles registered")
        print("Ctrl-C stops everything.\n", flush=True)
        sim_cmd = [py, "-m", "simulators", "--url", f"{found['ocpp']}/ocpp", "--chargers",
                   str(args.chargers), "--profile", args.profile, "--protocol", args.protocol,
                   "--speed", str(args.speed), "--seed", str(args.seed)]
        if args.protocol == "mixed" and args.v2g_share:
            sim_cmd += ["--v2g-share", str(args.v2g_share)]
        if args.faults:
            sim_cmd += ["--faults", args.faults]
        if fleet_n:
            sim_cmd += ["--fleet", str(fleet_n), "--fleet-file", str(fleet_file)]
        sim = subprocess.Popen(sim_cmd, env=env)
        while server.poll() is None and sim.poll() is None:
            time.sleep(0.5)
        if server.poll() is not None:
            print("csms serve stopped", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
    finally:
        _stop(sim)
        _stop(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())

