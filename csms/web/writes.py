"""One write path: every change the REST API and the console make runs in the store's single
writer thread (``services.worker``), in its group commit, like every OCPP message.

A second writer (a request session committing in the HTTP thread pool) would contend with the
writer for SQLite's lock and handle an outage its own way; through the worker an outage is a
StoreUnavailable, answered 503 by the app's handler. ``tests/test_architecture.py`` keeps
``.commit()`` out of csms/web (the CLIs aside)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request

from csms.store.worker import Refused

# (exception type, HTTP status, message or None for str(exc)); the first match wins.
Refusals = tuple[tuple[type[BaseException], int, str | None], ...]


async def write(request: Request, fn: Callable[..., Any], *args: Any,
                refusals: Refusals = ()) -> Any:
    """Run ``fn(session, *args)`` in the writer's batch and return its result once committed.

    An HTTPException raised by ``fn``, or an error ``refusals`` maps to a status, rolls back
    the job (nothing of it is kept) and is answered as such."""

    def job(session, *job_args):
        try:
            return fn(session, *job_args)
        except HTTPException as exc:
            raise Refused(exc) from None
        except Exception as exc:
            mapped = _mapped(exc, refusals)
            if mapped is None:
                raise
            raise Refused(mapped) from None

    job.__name__ = getattr(fn, "__name__", "write")
    try:
        return await request.app.state.services.worker.run(job, *args)
    except Refused as refused:
        raise refused.error from None
    except Exception as exc:  # raised at the batch's commit (a unique index), not in ``fn``
        mapped = _mapped(exc, refusals)
        if mapped is None:
            raise
        raise mapped from None


def _mapped(exc: BaseException, refusals: Refusals) -> HTTPException | None:
    for kind, status, message in refusals:
        if isinstance(exc, kind):
            return HTTPException(status, message if message is not None else str(exc))
    return None
