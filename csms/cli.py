"""`csms` command line: serve, db, token, evaluate, user, ca, vehicles.

Each subcommand's module is imported lazily so `csms evaluate` does not pay for the web stack.
Every `serve` option is also an env var with the CSMS_ prefix (see csms.settings).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys


def _serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database-url", help="default sqlite:///./csms.db; postgresql+psycopg://...")
    p.add_argument("--host", help="bind address (default 127.0.0.1)")
    p.add_argument("--http-port", type=int, help="HTTP console and API port (default 8000; 0 = free)")
    p.add_argument("--ocpp-port", type=int, help="OCPP-J gateway port (default 9000; 0 = free)")
    p.add_argument("--open", action="store_true", default=None,
                   help="lab mode: accept any charger identity and any id token")
    p.add_argument("--no-migrate", dest="migrate", action="store_false", default=None,
                   help="do not run database migrations at start")
    p.add_argument("--no-control", dest="control", action="store_false", default=None,
                   help="do not run the smart-charging control loop (gateway and API only)")
    p.add_argument("--speed", type=float, help="demo clock speed (simulated s per wall s)")
    p.add_argument("--start", help="demo clock start, ISO 8601 with offset")
    p.add_argument("--tls-cert", help="server certificate (PEM, chain after it): also listen "
                   "with TLS for security profiles 2 and 3")
    p.add_argument("--tls-key", help="the server certificate's private key (PEM)")
    p.add_argument("--tls-client-ca", help="CA bundle charger certificates must chain to "
                   "(security profile 3)")
    p.add_argument("--ocpp-tls-port", type=int, help="OCPP-J TLS port (default 9443; 0 = free)")
    p.add_argument("--tls-require-org", help="charger certificates must have this O (the CPO)")
    p.add_argument("--ca-cert", help="CA certificate that signs charger CSRs (SignCertificate)")
    p.add_argument("--ca-key", help="the CA's private key (PEM)")
    p.add_argument("--log-level", default="INFO")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="csms", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP app and the OCPP-J gateway")
    _serve_args(serve)
    serve.set_defaults(handler="csms.serve:run")

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="run migrations to the latest revision")
    up.add_argument("--database-url")
    up.set_defaults(handler="csms.store.migrate:run_cli")

    token = sub.add_parser("token", help="REST API bearer tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="create a token (printed once, stored hashed)")
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=["admin", "operator", "viewer"], default="operator")
    create.add_argument("--expires-days", type=float,
                        help="the token stops working after this many days (default: never)")
    create.add_argument("--database-url")
    create.set_defaults(handler="csms.store.tokens:create_cli")

    for target in _extensions():
        importlib.import_module(target).add_parser(sub)
    return parser


def _extensions() -> list[str]:
    """Modules of subcommands that live next to their feature (evaluate, user), if present."""
    found = []
    for target in ("csms.evaluate.cli", "csms.web.users_cli", "csms.ca_cli", "csms.fleet.cli"):
        try:
            if importlib.util.find_spec(target) is not None:
                found.append(target)
        except ModuleNotFoundError:
            continue
    return found


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module_name, func_name = args.handler.split(":")
    func = getattr(importlib.import_module(module_name), func_name)
    return int(func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
