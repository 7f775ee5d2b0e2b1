"""Bounds of every read: page sizes and time windows (HTTP 422 with the reason beyond them).

An unbounded read (a year of meter values as one response, a negative limit that SQLite takes
as "no limit") costs the server what one viewer asks for; these keep each request's work
proportional to what a screen can show.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import HTTPException, Path, Query

MAX_PAGE = 1000
MAX_SAMPLES_PAGE = 10_000
MAX_WINDOW = timedelta(days=31)

# Row ids are 32-bit on PostgreSQL (INTEGER): a larger one is a 422, not an overflow in the
# database driver.
INT32 = 2**31 - 1
Id = Annotated[int, Path(ge=0, le=INT32, description="row id")]

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"page size, 1..{MAX_PAGE}")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="rows to skip")]
SampleLimit = Annotated[int, Query(ge=1, le=MAX_SAMPLES_PAGE,
                                   description=f"page size, 1..{MAX_SAMPLES_PAGE}")]


def check_window(start: datetime, end: datetime) -> None:
    if end <= start:
        raise HTTPException(422, "'to' must be after 'from'")
    if end - start > MAX_WINDOW:
        raise HTTPException(422, f"a window of at most {MAX_WINDOW.days} days; ask for "
                                 "several windows")
