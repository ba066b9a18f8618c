"""Telegram, on Rasa's own Telegram connector (aiogram), with the care the web chat has:
every update must carry the secret token Telegram was given when the webhook was set
(``X-Telegram-Bot-Api-Secret-Token``), a re-delivered update is answered once, buttons are
inline keyboards, long answers are split under Telegram's 4,096 characters at sentence
ends, and sending is retried with failures recorded and re-sent on the next message.

Rasa's connector calls Telegram's getMe on every update to "verify" and sets the webhook
(with ``asyncio.run``) every time an output channel is made, which breaks pushing a
counsellor's message from inside the server; both are replaced here.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.bot.api import TelegramAPIServer
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Update
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions import content
from bot.channels import store
from bot.channels.formatting import TELEGRAM_MAX_CHARS, split_message
from bot.channels.messaging import (
    MessagingConfig,
    deliver,
    messaging_config,
    redeliver,
    resolve_choice,
    run_turn,
)

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CALLBACK_LIMIT = 64  # bytes Telegram allows in a button's callback_data


def callback_data(button: dict, index: int) -> str:
    """The payload itself when it fits Telegram's 64 bytes, else its number ('#2'), which
    is resolved against the conversation's last buttons like a typed '2'."""
    payload = str(button.get("payload") or button.get("title") or "")
    return payload if len(payload.encode("utf-8")) <= CALLBACK_LIMIT else f"#{index}"


class ParentTelegramOutput(TelegramOutput):
    """Telegram's output channel: split texts, inline keyboards, retried sends."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    def __init__(self, access_token: str | None, config: MessagingConfig) -> None:
        server = (TelegramAPIServer.from_base(config.telegram_api_url)
                  if config.telegram_api_url else None)
        Bot.__init__(self, access_token, **({"server": server} if server else {}))
        self.config = config

    async def send_part(self, chat_id: str, text: str, markup: Any = None) -> bool:
        return await deliver(self.config, "telegram", str(chat_id), text,
                             lambda: self.send_message(chat_id, text, reply_markup=markup))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_message(text, TELEGRAM_MAX_CHARS):
            await self.send_part(recipient_id, part)

    async def send_text_with_buttons(self, recipient_id: str, text: str,
                                     buttons: list[dict], button_type: str | None = None,
                                     **kwargs: Any) -> None:
        """One button per row (the titles are sentences, too long to sit side by side)."""
        markup = InlineKeyboardMarkup()
        for index, button in enumerate(buttons, 1):
            markup.row(InlineKeyboardButton(str(button.get("title") or index),
                                            callback_data=callback_data(button, index)))
        parts = split_message(text, TELEGRAM_MAX_CHARS) or ["\u2063"]
        for part in parts[:-1]:
            await self.send_part(recipient_id, part)
        await self.send_part(recipient_id, parts[-1], markup)

    async def send_turn(self, recipient_id: str, messages: list[dict]) -> None:
        for message in messages:
            if message.get("buttons"):
                await self.send_text_with_buttons(recipient_id, message.get("text") or "",
                                                  message["buttons"])
            elif message.get("text"):
                await self.send_text_message(recipient_id, message["text"])


class ParentTelegramInput(TelegramInput):
    """Rasa's Telegram input channel, verified by secret token and de-duplicated."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ParentTelegramInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(credentials.get("access_token"), credentials.get("verify"),
                   credentials.get("webhook_url"), credentials.get("secret_token"))

    def __init__(self, access_token: str | None, verify: str | None,
                 webhook_url: str | None, secret_token: str | None = None,
                 debug_mode: bool = False) -> None:
        super().__init__(access_token, verify, webhook_url, debug_mode=debug_mode)
        self.config = messaging_config()
        self.secret_token = secret_token or ""
        if not self.webhook_url:
            self.webhook_url = f"{self.config.public_url}/webhooks/telegram/webhook"
        self._output: ParentTelegramOutput | None = None

    def get_output_channel(self) -> ParentTelegramOutput:
        """One output channel (and HTTP session) for the process; no webhook call here."""
        if self._output is None:
            self._output = ParentTelegramOutput(self.access_token, self.config)
        return self._output

    async def set_webhook(self) -> bool:
        """Point Telegram at us, with the secret token it must send back every time."""
        try:
            await self.get_output_channel().request("setWebhook", {
                "url": self.webhook_url, "secret_token": self.secret_token,
                "allowed_updates": json.dumps(["message", "edited_message",
                                               "callback_query"])})
            logger.info("telegram: webhook set")
            return True
        except Exception as exc:
            logger.error("telegram: could not set the webhook (%s); updates will only "
                         "arrive if it was set before", type(exc).__name__)
            return False

    def verified(self, request: Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "")
        return bool(self.secret_token) and hmac.compare_digest(given.encode(),
                                                               self.secret_token.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram_webhook = Blueprint("telegram_webhook", __name__)

        @telegram_webhook.listener("after_server_start")
        async def point_webhook(_app: Any, _loop: Any) -> None:
            await self.set_webhook()

        @telegram_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            if not self.verified(request):
                logger.warning("telegram: refused an update without the secret token from %s",
                               request.remote_addr or request.ip)
                return response.text("forbidden", status=403)
            try:
                body = request.json
                update = Update(**body) if isinstance(body, dict) else None
            except Exception:
                update = None
            if update is None or not update.update_id:
                return response.text("not a Telegram update", status=400)
            db_url = self.config.database_url
            if not store.first_delivery(db_url, "telegram", str(update.update_id)):
                logger.info("telegram: duplicate delivery of an update ignored")
                return response.text("success")
            try:
                await self.handle_update(request, update, on_new_message)
            except Exception:
                store.forget_delivery(db_url, "telegram", str(update.update_id))
                logger.exception("telegram: could not handle an update")
                return response.text("error", status=500)
            return response.text("success")

        return telegram_webhook

    async def handle_update(self, request: Request, update: Update,
                            on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        out = self.get_output_channel()
        if update.callback_query is not None:
            msg = update.callback_query.message
            text = update.callback_query.data or ""
            try:
                await out.answer_callback_query(update.callback_query.id)
            except Exception:  # only stops the button's spinner
                logger.info("telegram: answerCallbackQuery failed")
        else:
            msg = update.message or update.edited_message
            if msg is None:
                return
            text = msg.text
        chat_id = str(msg.chat.id)
        if text is None:  # a sticker, photo or voice note
            await out.send_text_message(chat_id, content.load("messaging")["not_text"])
            return
        command = text.strip().split(" ", 1)[0].split("@", 1)[0].lower()
        if command == "/start":
            text = "/greet"
        elif command == "/help":
            await out.send_text_message(chat_id, content.load("messaging")["telegram_help"])
            return
        await redeliver(self.config, "telegram", chat_id,
                        lambda body: out.send_part(chat_id, body))
        text = await resolve_choice(request.app, chat_id, text)
        replies = await run_turn(on_new_message, text, chat_id, self.name(),
                                 self.get_metadata(request))
        await out.send_turn(chat_id, replies)
