"""The counsellor side of the human handoff, served by the Rasa server itself.

A custom Rasa input channel (``credentials.yml``: ``bot.counsellor_channel.CounsellorChannel``)
so that it shares the running agent: the tracker store for transcripts, the lock store,
and the parent's own channel for delivering the counsellor's words. Routes, under
``/webhooks/counsellor/``:

    GET  /                              the console page (no data without a token)
    GET  api/me                         who the token belongs to
    GET  api/handoffs[?state=all]       open handoffs with their transcripts
    GET  api/handoffs/<id>              one handoff with its transcript
    POST api/handoffs/<id>/claim        take it (409 if someone else has it)
    POST api/handoffs/<id>/messages     {"text": ...} to the parent, on their channel
    POST api/handoffs/<id>/close        hand back to the assistant (re-entry message)

Every ``api/`` route needs ``Authorization: Bearer <token>`` from COUNSELLOR_TOKENS; a
missing or wrong token gets 401 and nothing else.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import yaml
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import action_apology, action_response_check, db
from bot.handoff_delivery import send_to_parent, transcript
from bot.handoff_guard import HandoffGuard
from bot.settings import ROOT, load_settings
from bot.store_outage import StoreOutageGuard

logger = logging.getLogger(__name__)
CONSOLE_DIR = ROOT / "console"
MAX_TEXT = 4000


def counsellor_for(request: Request) -> str | None:
    """The counsellor's name for a valid bearer token, else None (constant-time compare)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    found = None
    for name, expected in load_settings().counsellor_tokens:
        if hmac.compare_digest(expected.encode(), token.strip().encode()):
            found = name
    return found


def reentry_text() -> str:
    with open(ROOT / "actions" / "content" / "handoff.yml", encoding="utf-8") as handle:
        return " ".join(str(yaml.safe_load(handle)["reentry"]).split())


def _error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def _json_body(request: Request) -> dict[str, Any] | None:
    try:
        body = request.json
    except Exception:
        return None
    return body if isinstance(body, dict) else None


class CounsellorChannel(InputChannel):
    """Counsellor console and API for helpline handoffs."""

    @classmethod
    def name(cls) -> str:
        return "counsellor"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("counsellor_webhook", __name__)

        @bp.listener("after_server_start")
        async def install_guard(app: Any, _loop: Any) -> None:
            HandoffGuard.install(app.ctx.agent)
            action_response_check.install()
            # Outermost: a database outage gets a kind answer, never a half-kept turn;
            # a failed custom action gets an apology instead of silence.
            StoreOutageGuard.install(app.ctx.agent)
            action_apology.install()

        def authorised(handler: Callable) -> Callable:
            async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
                who = counsellor_for(request)
                if who is None:
                    return _error(401, "unauthorised")
                return await handler(request, who, *args, **kwargs)
            wrapped.__name__ = handler.__name__
            return wrapped

        async def tracker_of(request: Request, conversation_id: str) -> Any:
            agent = request.app.ctx.agent
            return await agent.tracker_store.retrieve(conversation_id)

        async def with_transcript(request: Request, handoff: dict) -> dict:
            return {**handoff,
                    "transcript": transcript(await tracker_of(request,
                                                              handoff["conversation_id"]))}

        @bp.route("/", methods=["GET"])
        async def console(_: Request) -> HTTPResponse:
            return await response.file(CONSOLE_DIR / "index.html",
                                       headers=_page_headers())

        @bp.route("/console.js", methods=["GET"])
        async def console_js(_: Request) -> HTTPResponse:
            return await response.file(CONSOLE_DIR / "console.js",
                                       headers=_page_headers())

        @bp.route("/api/me", methods=["GET"])
        @authorised
        async def me(_: Request, who: str) -> HTTPResponse:
            return response.json({"counsellor": who})

        @bp.route("/api/handoffs", methods=["GET"])
        @authorised
        async def list_all(request: Request, who: str) -> HTTPResponse:
            states = ("waiting", "claimed", "closed", "failed") \
                if request.args.get("state") == "all" else db.OPEN_STATES
            rows = db.list_handoffs(load_settings().database_url, states)
            return response.json({"handoffs": [await with_transcript(request, h)
                                               for h in rows]})

        @bp.route("/api/handoffs/<hid:int>", methods=["GET"])
        @authorised
        async def one(request: Request, who: str, hid: int) -> HTTPResponse:
            handoff = db.get_handoff(load_settings().database_url, hid)
            if handoff is None:
                return _error(404, "no such handoff")
            return response.json(await with_transcript(request, handoff))

        @bp.route("/api/handoffs/<hid:int>/claim", methods=["POST"])
        @authorised
        async def claim(request: Request, who: str, hid: int) -> HTTPResponse:
            url = load_settings().database_url
            current = db.get_handoff(url, hid)
            if current is None:
                return _error(404, "no such handoff")
            if current["state"] == "claimed" and current["claimed_by"] == who:
                return response.json(current)
            done = db.update_handoff(url, hid, expect=("waiting",), state="claimed",
                                     claimed_by=who, claimed_at=db.now())
            if done is None:
                return _error(409, f"handoff is {current['state']}"
                              + (f" by {current['claimed_by']}" if current["claimed_by"]
                                 else ""))
            logger.info("handoff %s claimed", hid)
            return response.json(done)

        @bp.route("/api/handoffs/<hid:int>/messages", methods=["POST"])
        @authorised
        async def send(request: Request, who: str, hid: int) -> HTTPResponse:
            if request.content_type.split(";")[0].strip().lower() != "application/json":
                return _error(415, "send JSON with Content-Type: application/json")
            body = _json_body(request)
            if body is None:
                return _error(400, "send JSON: {\"text\": \"...\"}")
            text = str(body.get("text") or "").strip()
            if not text:
                return _error(400, "the message is empty")
            if len(text) > MAX_TEXT:
                return _error(413, f"the message is longer than {MAX_TEXT} characters")
            handoff = db.get_handoff(load_settings().database_url, hid)
            if handoff is None:
                return _error(404, "no such handoff")
            if handoff["state"] != "claimed" or handoff["claimed_by"] != who:
                return _error(409, "claim the handoff before writing to the parent")
            how = await send_to_parent(request.app, request.app.ctx.agent, handoff, text, who)
            return response.json({"delivered": how})

        @bp.route("/api/handoffs/<hid:int>/close", methods=["POST"])
        @authorised
        async def close(request: Request, who: str, hid: int) -> HTTPResponse:
            url = load_settings().database_url
            handoff = db.get_handoff(url, hid)
            if handoff is None:
                return _error(404, "no such handoff")
            if handoff["state"] == "claimed" and handoff["claimed_by"] != who:
                return _error(409, f"handoff is claimed by {handoff['claimed_by']}")
            done = db.update_handoff(url, hid, expect=db.OPEN_STATES, state="closed",
                                     closed_at=db.now(), closed_by=who)
            if done is None:
                return _error(409, f"handoff is {handoff['state']}")
            how = await send_to_parent(request.app, request.app.ctx.agent, done,
                                       reentry_text(), None, resume=True)
            logger.info("handoff %s closed", hid)
            return response.json({**done, "reentry": how})

        return bp


def _page_headers() -> dict[str, str]:
    """The console shows parents' words: no caching, no framing, no foreign scripts."""
    return {"Cache-Control": "no-store", "X-Frame-Options": "DENY",
            "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'",
            "Referrer-Policy": "no-referrer"}

