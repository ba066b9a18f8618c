"""The REST channel (``POST /webhooks/rest/webhook``) with its input checked first.

Rasa's ``RestInput`` reads ``request.json`` without looking: a JSON list, a number as the
message or a missing sender end in a 500 and a stack trace, and a failing turn is logged
with the parent's message text. Here the request is checked and refused with a clear 4xx
(415 wrong content type, 400 malformed JSON or fields, 413 too large) and errors are logged
without text. Still named ``rest``, so the address and the tracker's channel are unchanged.
Streaming (``?stream=true``) is not offered.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)
MAX_BODY_BYTES = 1_000_000  # far above any real message; the kind size limit is lower
MAX_SENDER_CHARS = 128  # the project's tables keep conversation ids in 128 characters


def _refuse(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def checked_body(request: Request) -> tuple[dict[str, Any] | None, HTTPResponse | None]:
    """The request's JSON object, or the 4xx response explaining what is wrong."""
    if request.content_type.split(";")[0].strip().lower() != "application/json":
        return None, _refuse(415, "send JSON with Content-Type: application/json")
    if len(request.body or b"") > MAX_BODY_BYTES:
        return None, _refuse(413, "the request is too large")
    try:
        body = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        return None, _refuse(400, 'malformed JSON: send {"sender": "...", "message": "..."}')
    if not isinstance(body, dict):
        return None, _refuse(400, 'send a JSON object: {"sender": "...", "message": "..."}')
    sender, text, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        return None, _refuse(400, f"sender must be a non-empty string of at most "
                                  f"{MAX_SENDER_CHARS} characters")
    if not isinstance(text, str):
        return None, _refuse(400, "message must be a string")
    if metadata is not None and not isinstance(metadata, dict):
        return None, _refuse(400, "metadata must be a JSON object")
    return body, None


class ParentRestInput(RestInput):
    """Rasa's REST channel with checked input and no message text in the logs."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("custom_webhook_ParentRestInput", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body, refused = checked_body(request)
            if refused is not None:
                return refused
            assert body is not None
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(body["message"], collector, body["sender"],
                                                 input_channel=self.name(),
                                                 metadata=body.get("metadata")))
            except Exception:
                # As Rasa does: the parent gets what was said so far, but no text is logged.
                logger.exception("an error occurred while handling a REST message")
            return response.json(collector.messages)

        return bp
