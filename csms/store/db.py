"""Engine creation. SQLite gets WAL and a busy timeout so the API can read while the gateway's
writer commits; PostgreSQL goes through psycopg 3."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine


def normalise_url(url: str) -> str:
    """Accept the common spellings and pick our drivers (psycopg 3 for PostgreSQL)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def check_writable(url: str) -> None:
    """SQLite: the database file, its -wal and -shm files and their directory must be writable.
    A read-only -shm is mapped into memory and the first write to it kills the process with
    SIGBUS, with no log line; refuse to start instead."""
    import os
    from pathlib import Path

    url = normalise_url(url)
    if not url.startswith("sqlite:///") or ":memory:" in url:
        return
    path = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if candidate.exists() and not os.access(candidate, os.R_OK | os.W_OK):
            raise sa.exc.OperationalError(None, None, OSError(f"{candidate} is not writable"))
    directory = path.parent if str(path.parent) else Path(".")
    if directory.exists() and not os.access(directory, os.W_OK):
        raise sa.exc.OperationalError(None, None, OSError(f"{directory} is not writable"))


def create_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
