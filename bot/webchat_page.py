"""The chat page, served by the Rasa server itself so `make run` needs no web server.

A Rasa input channel named ``chat`` whose blueprint only serves files: the page and its
script/style from ``web/`` and the ``rasa-webchat`` bundle that ``npm ci`` installed.
Messages go over the ``socketio`` channel (:mod:`bot.channels.socketio`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import ROOT

WEB = ROOT / "web"
WIDGET_BUNDLE = ROOT / "node_modules" / "rasa-webchat" / "lib" / "index.js"
PAGE = (WEB / "index.html", "text/html; charset=utf-8")
# Only these names are served: nothing else under web/ or node_modules/ is reachable.
ASSETS: dict[str, tuple[Path, str]] = {
    "chat.js": (WEB / "chat.js", "text/javascript; charset=utf-8"),
    "chat.css": (WEB / "chat.css", "text/css; charset=utf-8"),
    "webchat.js": (WIDGET_BUNDLE, "text/javascript; charset=utf-8"),
}
# Same-origin only: the widget's bundle @imports a Google font, which would tell a third
# party that this parent opened a parenting-help page; the policy blocks it.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class WebChatPage(InputChannel):
    """GET /webhooks/chat/ : the chat page (no messages arrive through this channel)."""

    @classmethod
    def name(cls) -> str:
        return "chat"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("webchat_page", __name__)

        @bp.route("/", methods=["GET"])
        async def page(request: Request) -> HTTPResponse:
            # The page's links are relative: it must be addressed with its trailing slash.
            if not request.path.endswith("/"):
                return response.redirect(request.path + "/")
            return await _file(*PAGE)

        @bp.route("/<name:str>", methods=["GET"])
        async def asset(_: Request, name: str) -> HTTPResponse:
            if name in ("", "index.html"):
                return await _file(*PAGE)
            if name not in ASSETS:
                return response.text("not found", status=404)
            return await _file(*ASSETS[name])

        return bp


async def _file(path: Path, content_type: str) -> HTTPResponse:
    if not path.exists():
        hint = "run `make install` (npm ci)" if path == WIDGET_BUNDLE else "missing file"
        return response.text(f"{path.name}: {hint}", status=503)
    return await response.file(path, mime_type=content_type, headers=SECURITY_HEADERS)
