"""``csms-sim``: a site of simulated chargers speaking OCPP-J to a CSMS.

Example: ``csms-sim --url ws://127.0.0.1:9000/ocpp --chargers 50 --profile office
--protocol mixed --speed 60 --seed 1``. Ctrl-C stops cleanly. Give it the CSMS's ``--speed``;
without ``--start`` the site takes the CSMS's time from the first BootNotification answer, and
every charger takes it at each boot (``--faults skew=...`` keeps some clocks off).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from datetime import timedelta

from simulators.arrivals import PROFILES
from simulators.charger.link import BackOff
from simulators.clock import SimClock, parse_start
from simulators.fleet import draw_fleet, write_fleet_file
from simulators.recording import Recorder
from simulators.site import ChaosConfig, Site
from simulators.vehicles import FleetMix

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="csms-sim", description=__doc__.splitlines()[0])
    p.add_argument("--url", default="ws://127.0.0.1:9000/ocpp",
                   help="OCPP endpoint prefix; a charger connects to URL/<id>")
    p.add_argument("--chargers", type=int, default=50)
    p.add_argument("--profile", choices=PROFILES, default="office")
    p.add_argument("--protocol", choices=["1.6", "2.0.1", "2.1", "mixed"], default="mixed",
                   help="2.1: V2G chargers (bidirectional dc150, V2G cars); mixed: 1.6 and "
                   "2.0.1 alternating, plus 2.1 V2G chargers with --v2g-share")
    p.add_argument("--v2g-share", type=float, default=0.0, metavar="FRACTION",
                   help="with --protocol mixed: share of chargers that are 2.1 V2G (default 0)")
    p.add_argument("--speed", type=float, default=1.0, help="simulated seconds per wall second")
    p.add_argument("--start", help="simulated start time, ISO 8601 with offset (default: the "
                   "CSMS's time, from the first BootNotification answer)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--password-file", help="Basic-auth passwords: 'ID PASSWORD' per line, "
                   "or one line with a password for every charger")
    p.add_argument("--tls-ca", metavar="FILE", help="CA bundle that signed the CSMS's "
                   "certificate; connect over wss (profile 2 with --password-file)")
    p.add_argument("--tls-cert", metavar="FILE", help="client certificate for every charger "
                   "(profile 3; its CN must be the charger id)")
    p.add_argument("--tls-key", metavar="FILE", help="the --tls-cert key")
    p.add_argument("--tls-cert-dir", metavar="DIR", help="per-charger client certificates "
                   "DIR/ID.pem and DIR/ID.key (as `csms ca issue` writes them)")
    p.add_argument("--id-prefix", default="SIM", help="charger ids are PREFIX-0001, ...")
    p.add_argument("--meter-interval", type=float, default=60.0,
                   help="MeterValueSampleInterval in simulated seconds")
    p.add_argument("--fleet-mix", help="segment shares, e.g. urban=45,mixed=35,commercial=12,"
                   "premium=8 (default: the documented Moroccan mix)")
    p.add_argument("--fleet", type=int, default=0, metavar="N",
                   help="the site owns N vehicles drawn from the fleet mix, each with a fixed "
                   "tag FLEET-0001...; an arrival takes one not plugged in (else it is a "
                   "visitor with a random tag). Default 0: visitors only")
    p.add_argument("--fleet-file", metavar="PATH", help="write the --fleet vehicles as JSON "
                   "[{id_token, model, name}] at start, for `csms vehicles import PATH`")
    p.add_argument("--fleet-only", action="store_true",
                   help="with --fleet-file: write the file and exit (no chargers run)")
    p.add_argument("--sessions-scale", type=float, default=1.0,
                   help="multiply the profile's sessions per EVSE per day")
    p.add_argument("--faults", help="chaos: drop=P,reboot=P (per charger per simulated hour), "
                   "slow=SHARE,ignore=SHARE,skew=SHARE (share of chargers), slow_s=S, "
                   "skew_s=S (clock offset of the skewed chargers, default -600)")
    p.add_argument("--duration-h", type=float, help="stop after this many simulated hours")
    p.add_argument("--summary-every", type=float, default=1.0, help="wall seconds")
    p.add_argument("--record", metavar="FILE", help="on exit, write the drivers seen as a "
                   "scenario (docs/scenario.md) for `csms evaluate --oracle FILE`")
    p.add_argument("--record-capacity-kw", type=float, default=150.0,
                   help="the site limit written in the --record scenario")
    p.add_argument("--record-phase-limit-kw", type=float,
                   help="the most one phase of the connection carries, written in the --record "
                   "scenario (default: a third of --record-capacity-kw, the CSMS's default)")
    p.add_argument("--log-level", default="WARNING")
    return p


def read_passwords(path: str | None) -> tuple[dict[str, str], str | None]:
    if not path:
        return {}, None
    per_id: dict[str, str] = {}
    default = None
    with open(path) as fh:
        for raw in fh:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) == 1:
                default = parts[0]
            else:
                per_id[parts[0]] = parts[1]
    return per_id, default


async def _summary(site: Site, every_s: float) -> None:
    tty = sys.stdout.isatty()
    while True:
        await asyncio.sleep(every_s)
        line = site.summary_line()
        if tty:
            sys.stdout.write("\r\033[K" + line)
        else:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()


def build_site(args: argparse.Namespace, clock: SimClock | None = None,
               backoff: BackOff | None = None) -> Site:
    """The site the command line describes (``clock``/``backoff``: tests pass their own)."""
    passwords, default_password = read_passwords(args.password_file)
    return Site(args.url, args.chargers, args.profile, args.protocol,
                clock or SimClock(args.speed, parse_start(args.start)), seed=args.seed,
                mix=FleetMix.parse(args.fleet_mix) if args.fleet_mix else FleetMix.default(),
                passwords=passwords, default_password=default_password,
                id_prefix=args.id_prefix, meter_interval_s=args.meter_interval,
                sessions_scale=args.sessions_scale, chaos=ChaosConfig.parse(args.faults),
                backoff=backoff or BackOff(), v2g_share=args.v2g_share,
                join_csms_clock=args.start is None and clock is None,
                recorder=Recorder() if getattr(args, "record", None) else None,
                fleet_size=getattr(args, "fleet", 0) or 0)


def use_tls(site: Site, args: argparse.Namespace) -> None:
    """wss:// URLs get a TLS context per charger (client certificates for profile 3)."""
    if not site.url.startswith("wss://"):
        return
    from simulators.tls import contexts_for

    contexts = contexts_for([c.id for c in site.chargers], getattr(args, "tls_ca", None),
                            getattr(args, "tls_cert", None), getattr(args, "tls_key", None),
                            getattr(args, "tls_cert_dir", None))
    for charger in site.chargers:
        charger.ssl_context = contexts[charger.id]


async def amain(args: argparse.Namespace) -> int:
    import ocpp.messages

    ocpp.messages.ASYNC_VALIDATION = False  # inline validation: much cheaper per connection
    site = build_site(args)
    use_tls(site, args)
    if args.fleet_file:
        write_fleet_file(args.fleet_file, site.fleet)
    clock = site.clock
    start = "the CSMS's time" if site.join_csms_clock else clock.start.isoformat()
    print(f"csms-sim: {args.chargers} {args.protocol} chargers, profile {args.profile}, "
          f"speed {args.speed:g}, start {start}, url {args.url}", flush=True)
    runner = asyncio.ensure_future(site.run(None if args.duration_h is None
                                            else args.duration_h * 3600.0))
    summary = asyncio.ensure_future(_summary(site, args.summary_every))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, runner.cancel)
    try:
        await runner
    except asyncio.CancelledError:
        pass
    finally:
        summary.cancel()
        await site.stop()
        print("\n" + site.summary_line(), flush=True)
        if site.recorder is not None:
            _write_record(site, args)
    return 0


def _write_record(site: Site, args: argparse.Namespace) -> None:
    visits = site.recorder.visits
    if not visits:
        print(f"csms-sim: no arrivals: {args.record} not written", flush=True)
        return
    start = min(v.arrival for v in visits).replace(second=0, microsecond=0)
    end = max(site.clock.now(), start + timedelta(seconds=60))
    phase_limit_kw = args.record_phase_limit_kw
    if phase_limit_kw is None:
        phase_limit_kw = args.record_capacity_kw / 3.0
    data = site.recorder.write(args.record, start, end, args.record_capacity_kw, 60,
                               phase_limit_kw)
    print(f"csms-sim: {len(data['sessions'])} sessions written to {args.record} "
          f"(csms evaluate --oracle {args.record})", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 0.0 <= args.v2g_share <= 1.0:
        parser.error("--v2g-share must be between 0 and 1")
    tls_options = args.tls_ca or args.tls_cert or args.tls_cert_dir
    if tls_options and not args.url.startswith("wss://"):
        parser.error("--tls-ca/--tls-cert/--tls-cert-dir need a wss:// --url")
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    if args.v2g_share > 0 and args.protocol != "mixed":
        parser.error("--v2g-share applies to --protocol mixed (2.1 is all V2G already)")
    if args.fleet < 0:
        parser.error("--fleet must be 0 or more")
    if args.fleet_file and not args.fleet:
        parser.error("--fleet-file needs --fleet N (N > 0)")
    if args.fleet_only and not args.fleet_file:
        parser.error("--fleet-only needs --fleet-file")
    if args.fleet_only:
        mix = FleetMix.parse(args.fleet_mix) if args.fleet_mix else FleetMix.default()
        write_fleet_file(args.fleet_file, draw_fleet(args.fleet, mix, args.seed))
        print(f"csms-sim: {args.fleet} vehicles written to {args.fleet_file}", flush=True)
        return 0
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return asyncio.run(amain(args))


if __name__ == "__main__":
    sys.exit(main())
