"""The `csms` command line: options map to settings."""

from __future__ import annotations

from csms.cli import build_parser
from csms.settings import load


def test_serve_options_become_settings(monkeypatch):
    monkeypatch.setenv("CSMS_PING_INTERVAL_S", "90")
    args = build_parser().parse_args(["serve", "--open", "--no-control", "--no-migrate",
                                      "--http-port", "0", "--ocpp-port", "0"])
    settings = load(database_url=args.database_url, open=args.open, control=args.control,
                    migrate=args.migrate, http_port=args.http_port, ocpp_port=args.ocpp_port)
    assert settings.open and not settings.control and not settings.migrate
    assert settings.http_port == 0 and settings.ocpp_port == 0
    assert settings.ping_interval_s == 90  # env var with the CSMS_ prefix
    defaults = build_parser().parse_args(["serve"])
    assert load(open=defaults.open, control=defaults.control).control is True
    assert load(open=defaults.open).open is False
