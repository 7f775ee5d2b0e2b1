"""What the store answers when it cannot keep anything (database down, disk full, read-only)."""

from __future__ import annotations


class StoreUnavailable(Exception):
    """Nothing of the unit of work was kept, and nothing may be acknowledged as if it were.

    The gateway answers no CALLRESULT for a message it could not store and closes the link, so
    the charger keeps its transaction messages queued and re-sends them once the store is back
    (OCPP 1.6 section 4.7, 2.0.1 E12: transaction messages are queued while offline)."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


class UnstorableValue(ValueError):
    """The database refused a value of the message (an integer beyond its column, say): the
    message is answered PropertyConstraintViolation, the same on SQLite and PostgreSQL."""
