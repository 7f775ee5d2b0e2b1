"""Requests whose text no store keeps are refused at the door, the same on SQLite and PostgreSQL.

NUL is refused by PostgreSQL text and lone UTF-16 surrogates are not UTF-8: either in a URL
(a charger id in the path) or in a JSON body once turned a request into a 500 on one store and
not the other. The URL gets 400, a JSON body 422, each with the reason; nothing reaches a handler.
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote_to_bytes

# An escaped high surrogate not followed by an escaped low one, or a lone low surrogate.
_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")
MAX_CHECKED_BODY_BYTES = 1 << 20


def _bad_text(raw: bytes) -> str | None:
    if b"\x00" in raw:
        return "NUL characters are not accepted"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8"
    return None


class InputGuard:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for part in (scope.get("raw_path") or scope["path"].encode("utf-8", "surrogatepass"),
                     scope.get("query_string", b"")):
            reason = _bad_text(unquote_to_bytes(part))
            if reason:
                await _answer(send, 400, f"URL: {reason}")
                return
        headers = dict(scope.get("headers") or [])
        if b"json" not in headers.get(b"content-type", b""):
            await self.app(scope, receive, send)
            return
        body, more, messages = b"", True, []
        while more:
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            more = message.get("more_body", False) and len(body) <= MAX_CHECKED_BODY_BYTES
        if b"\\u0000" in body or b"\\U0000" in body or _LONE_SURROGATE.search(body):
            await _answer(send, 422, "JSON body: NUL characters and lone surrogates are not "
                                     "accepted")
            return
        replay = iter(messages)

        async def replayed():
            return next(replay, None) or await receive()

        await self.app(scope, replayed, send)


async def _answer(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
