"""The sessions CSV, for the API and the console alike.

Cells cannot become spreadsheet formulas: a text cell starting with = + - @ tab or CR is
prefixed with a quote (OWASP "CSV injection"), since id tokens, stop reasons and charger ids
come from chargers. Numbers stay numbers. An export is at most MAX_CSV_ROWS rows: a wider one
gets 413 with a message to narrow the filters.
"""

from __future__ import annotations

import csv
import io

from fastapi import HTTPException
from fastapi.responses import StreamingResponse

MAX_CSV_ROWS = 100_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, list):
        value = ";".join(str(v) for v in value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_response(fieldnames: list[str], rows, filename: str) -> StreamingResponse:
    """``rows``: dicts (JSON-ready); at most MAX_CSV_ROWS of them (pass one more to detect)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fieldnames)
    writer.writeheader()
    for n, row in enumerate(rows):
        if n >= MAX_CSV_ROWS:
            raise HTTPException(413, f"more than {MAX_CSV_ROWS:,} rows; narrow the filters "
                                "(charger, since, until)")
        writer.writerow({key: safe_cell(value) for key, value in row.items()})
    return StreamingResponse(iter([buffer.getvalue()]), media_type="text/csv",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})
