"""Telling a store outage from a bad unit of work, and logging an outage once, not per message.

An outage (database unreachable or restarting, disk full, read-only file or transaction) fails
every write alike until it ends: the writer refuses the whole batch at once (`StoreUnavailable`)
instead of retrying each job alone, and the log gets one line when it starts, a count every
`REPORT_EVERY_S` while it lasts and one line when it ends - a 30 s outage once wrote 21,700
ERROR lines. Any other error (a constraint, a value the database refuses) stays the job's own.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)

REPORT_EVERY_S = 30.0
SETTLE_S = 5.0
# SQLSTATE classes that mean "the database cannot work now", not "this statement is wrong":
# 08 connection exception, 53 insufficient resources (disk full), 57 operator intervention
# (shutdown, crash recovery), 58 system error (I/O); 25006 read-only transaction.
_OUTAGE_SQLSTATE_CLASSES = ("08", "53", "57", "58")
_READ_ONLY_SQLSTATE = "25006"


def outage_cause(exc: BaseException) -> str | None:
    """A one-line cause when ``exc`` means the store cannot take writes now, else None."""
    if isinstance(exc, sa_exc.DBAPIError):
        sqlstate = getattr(exc.orig, "sqlstate", None) or ""
        if (isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError))
                or exc.connection_invalidated or sqlstate == _READ_ONLY_SQLSTATE
                or sqlstate[:2] in _OUTAGE_SQLSTATE_CLASSES):
            return _first_line(exc.orig)
        return None
    if isinstance(exc, OSError):  # e.g. the journal or WAL file cannot grow
        return _first_line(exc)
    return None


def _first_line(exc: BaseException | None) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


class Outage:
    """Whether the store took its last write, and the counts behind the outage log lines.

    Written by the writer thread only; ``available`` is read from the event loop."""

    def __init__(self) -> None:
        self.available = True
        self.since_s: float | None = None  # monotonic start of the current outage
        self.last_failure_s: float | None = None
        self.refused = 0  # units of work refused in the current outage
        self._reported_s = 0.0
        self._reported_refused = 0

    def failed(self, cause: str, jobs: int) -> None:
        now_s = time.monotonic()
        self.last_failure_s = now_s
        self.refused += jobs
        self.available = False
        if self.since_s is None:
            self.since_s, self._reported_s = now_s, now_s
            self._reported_refused = self.refused
            log.error("store unavailable: %s; nothing is acknowledged until it returns "
                      "(chargers keep and re-send their transaction messages)", cause)
            return
        if now_s - self._reported_s >= REPORT_EVERY_S:
            log.warning("store still unavailable after %.0f s: %s (%d units of work refused "
                        "since the last report)", now_s - (self.since_s or now_s), cause,
                        self.refused - self._reported_refused)
            self._reported_s, self._reported_refused = now_s, self.refused

    def succeeded(self) -> None:
        """A write went through. The outage is over (logged) once writes have gone through for
        `SETTLE_S`: a nearly full disk lets small writes pass between failures, and each pass
        must not log a new outage."""
        self.available = True
        if self.since_s is None:
            return
        now_s = time.monotonic()
        if now_s - (self.last_failure_s or now_s) < SETTLE_S:
            return
        log.warning("store available again after %.0f s; %d units of work were refused",
                    (self.last_failure_s or now_s) - self.since_s, self.refused)
        self.since_s, self.refused = None, 0

    def refusing(self, probe_every_s: float = 2.0) -> bool:
        """True while new work should be turned away without trying: the store failed less
        than ``probe_every_s`` ago. Past that, the next unit of work is the probe."""
        return (not self.available and self.last_failure_s is not None
                and time.monotonic() - self.last_failure_s < probe_every_s)
