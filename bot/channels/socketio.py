"""The web chat's socket.io channel: Rasa's ``SocketIOInput`` made safe for parents.

Differences from Rasa's channel, and why:

- Origins: Rasa accepts socket.io connections from any website (``cors_allowed_origins=[]``).
  Here only the assistant's own page and the origins in ``WEBCHAT_ORIGINS`` may connect.
- Sessions: Rasa trusts the ``session_id`` each message carries, so anyone who sends
  someone else's id writes into their conversation. Here a socket may only use the
  session it was confirmed for, and client-chosen ids must be long random hex values.
- Output: long answers become several short bubbles (phone screens), text is escaped so
  the widget's Markdown renderer shows it as text, never as links or HTML, and helpline
  numbers from the directory become ``tel:`` links.
- The running ``AsyncServer`` is reachable with :func:`current_server` so other parts of
  the project (the counsellor handoff) can push messages to a parent's room
  (the room is the session id, which is also the Rasa sender id).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

from rasa.core.channels.channel import UserMessage, decode_bearer_token
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer

from bot import helplines
from bot.settings import Settings, load_settings

logger = logging.getLogger(__name__)

BUBBLE_CHARS = 240
# Where a long paragraph may be cut: a line break, or a space after a sentence end.
PIECE_BREAK = re.compile(r"(\n|(?<=[.!?])[ \t]+(?=[A-Z0-9\"'(\u201c\u2022]))")
SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
# Markdown punctuation the widget's parser (remark, GFM mode) accepts a backslash before.
MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!~|])")

_server: AsyncServer | None = None


def current_server() -> AsyncServer | None:
    """The socket.io server of this process (None before the channel is set up).

    Emit to a parent with ``await current_server().emit("bot_uttered", {"text": ...},
    room=<session id>)``; the session id is the conversation's sender id.
    """
    return _server


def split_bubbles(text: str, limit: int = BUBBLE_CHARS) -> list[str]:
    """Paragraphs, and long paragraphs cut at line or sentence ends, as short chat bubbles.

    Line breaks inside a bubble are kept (lists of helplines are one line each).
    """
    bubbles: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        pieces = PIECE_BREAK.split(paragraph.strip())
        current = pieces[0]
        for sep, piece in zip(pieces[1::2], pieces[2::2]):
            if current.strip() and len(current) + len(sep) + len(piece) > limit:
                bubbles.append(current.strip())
                current = piece
            else:
                current = current + sep + piece
        if current.strip():
            bubbles.append(current.strip())
    return bubbles


@lru_cache(maxsize=1)
def phone_numbers() -> dict[str, str]:
    """Every number in the helpline directory as written in messages -> digits to dial."""
    numbers: dict[str, str] = {}
    for entry in helplines.countries().values():
        for number in re.findall(r"\d+", str(entry.get("emergency", ""))):
            numbers[number] = number
        for need in helplines.NEEDS:
            for line in entry.get(need) or []:
                tel = str(line.get("tel") or "")
                for written in re.findall(r"\d[\d -]*\d|\d", str(line.get("how", ""))):
                    if tel and re.sub(r"\D", "", written) == tel:
                        numbers[written] = tel
    return numbers


def escape_markdown(text: str) -> str:
    """Text that a Markdown renderer shows exactly as written (no links, no HTML)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def _link(label: str, target: str) -> str:
    return f"[{escape_markdown(label)}]({target})"


def to_widget_markdown(text: str) -> str:
    """Escaped text in which web addresses and the directory's helpline numbers are links.

    Links are built here (only https/http and tel:) rather than left to the widget's
    Markdown autolinker, which would keep the escaping backslashes inside addresses.
    """
    if "\n" in text:  # a Markdown hard break keeps each line on its own line
        return "  \n".join(to_widget_markdown(line) for line in text.split("\n"))
    out, last = [], 0
    for match in _link_pattern().finditer(text):
        out.append(escape_markdown(text[last:match.start()]))
        if match.group("url"):
            out.append(_link(match.group("url"), match.group("url")))
        else:
            written = match.group("tel")
            out.append(_link(written, f"tel:{phone_numbers()[written]}"))
        last = match.end()
    out.append(escape_markdown(text[last:]))
    return "".join(out)


@lru_cache(maxsize=1)
def _link_pattern() -> re.Pattern[str]:
    # An address ends before closing punctuation: "(https://findahelpline.com)." -> the URL.
    url = r"(?P<url>https?://[A-Za-z0-9\-._~:/?#@!$&'*+,;=%]*[A-Za-z0-9/#=&_~-])"
    written = sorted(phone_numbers(), key=len, reverse=True)
    tel = r"(?<![\w-])(?P<tel>" + "|".join(re.escape(w) for w in written) + r")(?![\w-])"
    return re.compile(f"{url}|{tel}")


def same_origin_or_listed(allowed: tuple[str, ...]) -> Callable[[str, dict], bool]:
    """An origin check for python-engineio: the page's own host, or a listed origin."""

    def check(origin: str, environ: dict) -> bool:
        own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        return origin == own or origin in allowed or "*" in allowed

    return check


class ParentSocketIOOutput(SocketIOOutput):
    """Short bubbles, text shown as text, helpline numbers as tel: links."""

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for bubble in split_bubbles(text):
            await self._send_message(recipient_id, {"text": to_widget_markdown(bubble)})

    async def send_text_with_buttons(self, recipient_id: str, text: str,
                                     buttons: list[dict[str, Any]], **kwargs: Any) -> None:
        messages = [{"text": to_widget_markdown(b)} for b in split_bubbles(text)] or \
            [{"text": ""}]
        messages[-1]["quick_replies"] = [
            {"content_type": "text", "title": b["title"], "payload": b["payload"]}
            for b in buttons
        ]
        for message in messages:
            await self._send_message(recipient_id, message)


def cross_process(settings: Settings) -> dict[str, Any]:
    """With REDIS_URL (several Rasa processes), emits go through Redis, so a message pushed
    to a parent's room from any process (a counsellor's words) reaches the parent's
    socket on whichever process holds it. A socket itself stays on one process: the load
    balancer must keep a client on one process (sticky sessions) for polling."""
    if not settings.redis_url:
        return {}
    channel = f"{settings.redis_key_prefix or 'parenting'}:socketio"
    return {"client_manager": AsyncRedisManager(settings.redis_url, channel=channel)}


class ParentSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel with origin checks and sessions bound to their socket."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def get_output_channel(self) -> SocketIOOutput | None:
        if self.sio is None:
            return super().get_output_channel()
        return ParentSocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        global _server
        settings = load_settings()
        sio = AsyncServer(async_mode="sanic",
                          cors_allowed_origins=same_origin_or_listed(settings.webchat_origins),
                          **cross_process(settings))
        bp = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = _server = sio
        namespace = self.namespace

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: dict, auth: dict | None = None) -> bool:
            if not self.jwt_key:
                return True
            token = (auth or {}).get("token")
            return bool(token and decode_bearer_token(token, self.jwt_key, self.jwt_algorithm))

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: dict | None) -> None:
            wanted = str((data or {}).get("session_id") or "")
            session_id = wanted if SESSION_ID.match(wanted) else uuid.uuid4().hex
            await sio.save_session(sid, {"session_id": session_id}, namespace=namespace)
            if self.session_persistence:
                # Awaited: python-socketio 5's enter_room is a coroutine, and Rasa 3.6
                # calls it without await, so its rooms (and replies) never arrive.
                await sio.enter_room(sid, session_id, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: dict) -> None:
            if not isinstance(data, dict):
                return
            session = await sio.get_session(sid, namespace=namespace)
            if self.session_persistence:
                sender_id = session.get("session_id")
                if not sender_id:
                    logger.warning("socket.io message before session_request: ignored")
                    return
            else:
                sender_id = sid
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            message = str(data.get("message") or "")
            await on_new_message(UserMessage(
                message, ParentSocketIOOutput(sio, self.bot_message_evt), sender_id,
                input_channel=self.name(), metadata=metadata))

        return bp

