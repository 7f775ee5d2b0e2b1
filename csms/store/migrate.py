"""Run Alembic migrations programmatically (`csms db upgrade`, and at `csms serve` start)."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic.config import Config

from alembic import command
from csms.settings import load
from csms.store.db import create_engine, normalise_url

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent.parent


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()
    log.info("database at revision head")


def run_cli(args) -> int:
    url = args.database_url or load().database_url
    upgrade(url)
    print(f"database upgraded: {_redact(url)}")
    return 0


def _redact(url: str) -> str:
    """Hide a password in a URL before printing it."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url
