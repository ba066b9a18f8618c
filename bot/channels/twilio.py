"""SMS and WhatsApp through Twilio, on Rasa's own Twilio connector, with the care the web
chat has: every webhook's ``X-Twilio-Signature`` checked before anything is read, a
re-delivered webhook answered once, STOP/START/HELP as carriers expect, each turn sent as
the fewest messages (buttons as "Reply 1 for ..."), and sending retried, off the event loop
(Twilio's client blocks), with failures recorded and re-sent later.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from actions import content
from bot.channels import store
from bot.channels.formatting import TWILIO_MAX_CHARS, compose_turn, gsm_friendly, split_message
from bot.channels.messaging import (
    MessagingConfig,
    deliver,
    messaging_config,
    redeliver,
    resolve_choice,
    run_turn,
)

logger = logging.getLogger(__name__)

# The keywords carriers and Twilio recognise (whole message, any case).
STOP_WORDS = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit"}
START_WORDS = {"start", "unstop", "yes"}
HELP_WORDS = {"help", "info"}
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def keyword(text: str | None) -> str | None:
    """'STOP', ' stop. ' -> 'stop'; anything longer than one word is not a keyword."""
    word = re.sub(r"[^\w]", "", (text or "").strip().lower())
    return word if word in STOP_WORDS | START_WORDS | HELP_WORDS else None


def form_params(request: Request) -> dict[str, list[str]]:
    """The posted form with empty fields kept: Twilio signs them too, and Sanic's own
    ``request.form`` drops them."""
    if not (request.content_type or "").startswith("application/x-www-form-urlencoded"):
        return {}
    try:
        return parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return {}


class _Params(dict):
    """twilio's validator reads multi-valued fields through ``getlist``."""

    def getlist(self, name: str) -> list[str]:
        return self[name]


def is_whatsapp(address: str) -> bool:
    return address.startswith("whatsapp:")


class ParentTwilioOutput(TwilioOutput):
    """Twilio's output channel: shaped texts, sent with retries from a worker thread."""

    @classmethod
    def name(cls) -> str:
        return "twilio"

    def __init__(self, account_sid: str | None, auth_token: str | None,
                 twilio_number: str | None, config: MessagingConfig) -> None:
        super().__init__(account_sid, auth_token, twilio_number)
        self.config = config
        self.http_client.timeout = 15  # seconds; twilio-python waits forever by default
        if config.twilio_api_url:  # a local stand-in (tests) or a regional proxy
            self.api.base_url = config.twilio_api_url.rstrip("/")

    def sender_for(self, recipient: str, inbound_to: str | None = None) -> str:
        """Answer from the number the parent wrote to; otherwise ours, on their app."""
        if inbound_to:
            return inbound_to
        if is_whatsapp(recipient):
            number = self.config.twilio_whatsapp_number or str(self.twilio_number)
            return number if is_whatsapp(number) else f"whatsapp:{number}"
        return str(self.twilio_number)

    async def send_body(self, recipient: str, body: str, inbound_to: str | None = None
                        ) -> bool:
        """One message through Twilio's API; True when Twilio accepted it."""
        data = {"to": recipient, "from_": self.sender_for(recipient, inbound_to), "body": body}
        return await deliver(self.config, "twilio", recipient, body,
                             lambda: asyncio.to_thread(self.messages.create, **data))

    def can_reach(self, recipient: str) -> bool:
        """False once the number replied STOP: carriers require that nothing more is sent."""
        return not store.is_opted_out(self.config.database_url, "twilio", recipient)

    async def send_turn(self, recipient: str, messages: list[dict],
                        inbound_to: str | None = None) -> None:
        """A whole turn as the fewest messages, in order (SMS may arrive out of order, so
        fewer, longer texts read better)."""
        if not self.can_reach(recipient):
            logger.info("twilio: not sending to a number that replied STOP")
            return
        for part in compose_turn(messages, TWILIO_MAX_CHARS, sms=not is_whatsapp(recipient)):
            await self.send_body(recipient, part, inbound_to)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_turn(recipient_id, [{"text": text}])

    async def send_text_with_buttons(self, recipient_id: str, text: str,
                                     buttons: list[dict], **kwargs: Any) -> None:
        await self.send_turn(recipient_id, [{"text": text, "buttons": buttons}])


class ParentTwilioInput(TwilioInput):
    """Rasa's Twilio input channel, verified and de-duplicated."""

    @classmethod
    def name(cls) -> str:
        return "twilio"

    def __init__(self, account_sid: str | None, auth_token: str | None,
                 twilio_number: str | None, debug_mode: bool = False) -> None:
        super().__init__(account_sid, auth_token, twilio_number, debug_mode=debug_mode)
        self.config = messaging_config()
        self.validator = RequestValidator(auth_token or "")
        self._output: ParentTwilioOutput | None = None

    def get_output_channel(self) -> ParentTwilioOutput:
        if self._output is None:
            self._output = ParentTwilioOutput(self.account_sid, self.auth_token,
                                              self.twilio_number, self.config)
        return self._output

    def webhook_url(self, request: Request) -> str:
        """The URL Twilio signed: the public one it was given, not the one we see behind
        a proxy."""
        url = self.config.twilio_webhook_url or f"{self.config.public_url}{request.path}"
        if request.query_string and "?" not in url:
            url = f"{url}?{request.query_string}"
        return url

    def verified(self, request: Request, params: dict[str, list[str]]) -> bool:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not self.auth_token:
            return False
        try:
            return bool(self.validator.validate(self.webhook_url(request), _Params(params),
                                                signature))
        except Exception:  # a malformed body cannot be a valid signature
            return False

    async def keyword_reply(self, word: str, sender: str, inbound_to: str | None) -> None:
        """STOP, START and HELP answered as carriers expect, without the assistant."""
        texts = content.load("messaging")["sms_keywords"]
        out = self.get_output_channel()
        db_url = self.config.database_url
        if word in STOP_WORDS:
            store.set_opted_out(db_url, "twilio", sender, True)
            await out.send_body(sender, gsm_friendly(texts["stop"]), inbound_to)
        elif word in START_WORDS:
            store.set_opted_out(db_url, "twilio", sender, False)
            await out.send_body(sender, gsm_friendly(texts["start"]), inbound_to)
        else:
            for part in split_message(gsm_friendly(texts["help"]), TWILIO_MAX_CHARS):
                await out.send_body(sender, part, inbound_to)

    async def answer_opted_out(self, app: Any, sender: str, text: str,
                               inbound_to: str | None) -> None:
        """After STOP only START and HELP are answered, and a message that reads as a
        crisis: it gets the emergency numbers once (nothing is stored)."""
        agent = getattr(app.ctx, "agent", None)
        parsed = await agent.parse_message(text) if agent is not None else {}
        if str((parsed.get("intent") or {}).get("name", "")).startswith("crisis_"):
            logger.warning("twilio: crisis message from a number that replied STOP; "
                           "emergency numbers sent")
            await self.get_output_channel().send_body(sender, gsm_friendly(
                content.load("messaging")["sms_keywords"]["opted_out_crisis"]), inbound_to)
        else:
            logger.info("twilio: message from a number that replied STOP; "
                        "only START or HELP are answered")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        twilio_webhook = Blueprint("twilio_webhook", __name__)

        @twilio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @twilio_webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            params = form_params(request)
            if not self.verified(request, params):
                logger.warning("twilio: refused a webhook without a valid X-Twilio-Signature "
                               "from %s", request.remote_addr or request.ip)
                return response.text("invalid signature", status=403)
            form = {name: values[0] for name, values in params.items()}
            sender = form.get("From")
            text = form.get("Body")
            message_sid = form.get("MessageSid") or form.get("SmsMessageSid")
            inbound_to = form.get("To")
            if not sender or text is None:
                return response.text("missing From or Body", status=400)
            db_url = self.config.database_url
            if message_sid and not store.first_delivery(db_url, "twilio", message_sid):
                logger.info("twilio: duplicate delivery of a message ignored")
                return response.text(EMPTY_TWIML, content_type="text/xml")
            out = self.get_output_channel()
            try:
                word = keyword(text)
                if word in STOP_WORDS or word in HELP_WORDS or (
                        word in START_WORDS
                        and store.is_opted_out(db_url, "twilio", sender)):
                    await self.keyword_reply(word, sender, inbound_to)
                    return response.text(EMPTY_TWIML, content_type="text/xml")
                if store.is_opted_out(db_url, "twilio", sender):
                    await self.answer_opted_out(request.app, sender, text, inbound_to)
                    return response.text(EMPTY_TWIML, content_type="text/xml")
                if not text.strip() and int(form.get("NumMedia") or 0) > 0:
                    await out.send_body(sender, gsm_friendly(
                        content.load("messaging")["not_text"]), inbound_to)
                    return response.text(EMPTY_TWIML, content_type="text/xml")
                await redeliver(self.config, "twilio", sender,
                                lambda body: out.send_body(sender, body, inbound_to))
                text = await resolve_choice(request.app, sender, text.replace("¡", "@"))
                replies = await run_turn(on_new_message, text, sender, self.name(),
                                         self.get_metadata(request))
                await out.send_turn(sender, replies, inbound_to)
            except Exception:
                if message_sid:  # let Twilio's retry be handled
                    store.forget_delivery(db_url, "twilio", message_sid)
                logger.exception("twilio: could not handle a message")
                return response.text("error", status=500)
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return twilio_webhook
