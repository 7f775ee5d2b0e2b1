"""`csms vehicles seed` (one vehicle per catalogue model, once), `csms vehicles import FILE`
(a fleet file: vehicles with their id tokens, e.g. from `csms-sim --fleet-file`) and
`csms vehicles list`."""

from __future__ import annotations

import argparse
import json
import sys

from sqlmodel import Session

from csms import clock
from csms.fleet import registry
from csms.settings import load
from csms.store.db import create_engine
from csms.store.migrate import upgrade


def add_parser(subparsers) -> None:
    vehicles = subparsers.add_parser("vehicles", help="the fleet's vehicle registry")
    vehicles_sub = vehicles.add_subparsers(dest="vehicles_command", required=True)
    for name, text in (("seed", "register one vehicle per catalogue model (the brief's 14), "
                                "skipping names already registered"),
                       ("list", "list the registered vehicles")):
        p = vehicles_sub.add_parser(name, help=text)
        p.add_argument("--database-url")
        p.set_defaults(handler="csms.fleet.cli:run")
    imp = vehicles_sub.add_parser(
        "import", help="register the vehicles of a fleet file (JSON [{id_token, model, name}], "
        "as csms-sim --fleet-file writes it) with their id tokens; running it again changes "
        "nothing")
    imp.add_argument("file")
    imp.add_argument("--database-url")
    imp.set_defaults(handler="csms.fleet.cli:run")


def _read(path: str):
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"csms vehicles import: cannot read {path}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    entries = _read(args.file) if args.vehicles_command == "import" else None
    url = args.database_url or load().database_url
    upgrade(url)
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            if args.vehicles_command == "import":
                try:
                    result = registry.import_fleet(session, entries, clock.now())
                    session.commit()
                except ValueError as exc:  # VehicleError, VehicleConflict
                    session.rollback()
                    print(f"csms vehicles import: {args.file}: {exc}", file=sys.stderr)
                    return 1
                print(f"{len(result.vehicles)} vehicles: {len(result.created)} added, "
                      f"{len(result.updated)} updated, {len(result.unchanged)} unchanged; "
                      f"{len(result.id_tokens_created)} id tokens added")
                return 0
            if args.vehicles_command == "seed":
                added = registry.seed_catalogue(session, clock.now())
                session.commit()
                print(f"{len(added)} vehicles added")
                return 0
            for v in registry.list_vehicles(session):
                print("\t".join([str(v.id), v.name, v.model or "-", f"{v.battery_wh / 1000:g} kWh",
                                 f"AC {v.ac_max_w / 1000:g} kW x{v.ac_phases}",
                                 f"DC {v.dc_max_w / 1000:g} kW", "V2G" if v.v2g else "",
                                 v.id_token or "", v.ev_id or ""]).rstrip())
    finally:
        engine.dispose()
    return 0
