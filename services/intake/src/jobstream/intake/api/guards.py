"""A guard in front of every intake route: ids and filters in the URL may not hold NUL.

PostgreSQL text cannot hold the NUL character, and psycopg refuses such a parameter before
it reaches the server, so the shared handler of unstorable values (which reads the server's
error code) never sees it: without this guard a ``?customer_id=%00`` would be a 500.
"""

from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

MESSAGE = "text may not contain the NUL character (\\u0000)"


class RefuseNul:
    """Answer 422 to a request whose path or query string holds NUL."""

    def __init__(self, app: ASGIApp) -> None:
        """Guard ``app``."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 422 at once if the path or query holds NUL; else pass the request on."""
        if scope["type"] == "http":
            where = None
            if "\x00" in scope.get("path", ""):
                where = "path"
            elif b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
                where = "query"
            if where is not None:
                body = json.dumps(
                    {"detail": [{"loc": [where], "msg": MESSAGE, "type": "value_error"}]}
                ).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 422,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
