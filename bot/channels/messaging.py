"""What the Telegram and Twilio connectors share: settings, sending with retries (a failure
is recorded and the reply kept for later, never dropped), the numbered-reply lookup in the
conversation's own tracker (so any Rasa process can resolve "1"), and handling one turn.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels import store
from bot.channels.formatting import chosen_payload
from bot.settings import load_settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MessagingConfig:
    """Connector settings that are not credentials (those are in credentials.yml)."""

    database_url: str
    public_url: str
    send_retries: int
    send_backoff: float
    telegram_api_url: str
    twilio_api_url: str
    twilio_webhook_url: str
    twilio_whatsapp_number: str


def messaging_config() -> MessagingConfig:
    settings = load_settings()
    return MessagingConfig(
        database_url=settings.database_url,
        public_url=settings.public_url,
        send_retries=max(1, int(os.environ.get("MESSAGING_SEND_RETRIES", "3"))),
        send_backoff=float(os.environ.get("MESSAGING_SEND_BACKOFF", "0.5")),
        telegram_api_url=os.environ.get("TELEGRAM_API_URL", "").strip(),
        twilio_api_url=os.environ.get("TWILIO_API_URL", "").strip(),
        twilio_webhook_url=os.environ.get("TWILIO_WEBHOOK_URL", "").strip(),
        twilio_whatsapp_number=os.environ.get("TWILIO_WHATSAPP_NUMBER", "").strip(),
    )


async def send_with_retries(send: Callable[[], Awaitable[Any]], retries: int,
                            backoff: float) -> tuple[bool, int, str]:
    """Call ``send`` until it succeeds or ``retries`` attempts failed (waiting
    backoff, 2*backoff, ...). Returns (delivered, attempts, last error)."""
    error = ""
    for attempt in range(1, retries + 1):
        try:
            await send()
            return True, attempt, ""
        except Exception as exc:  # provider errors come in many classes
            error = f"{type(exc).__name__}: {exc}"[:300]
            logger.warning("send attempt %d/%d failed: %s", attempt, retries,
                           type(exc).__name__)
            if attempt < retries:
                await asyncio.sleep(backoff * 2 ** (attempt - 1))
    return False, retries, error


async def deliver(config: MessagingConfig, channel: str, recipient: str, text: str,
                  send: Callable[[], Awaitable[Any]]) -> bool:
    """Send with retries; after the last failure record it (with the reply) for later."""
    ok, attempts, error = await send_with_retries(send, config.send_retries,
                                                  config.send_backoff)
    if not ok:
        failure = store.record_failure(config.database_url, channel, recipient, text,
                                       attempts, error)
        logger.error("%s: reply not delivered after %d attempts (failure %d recorded): %s",
                     channel, attempts, failure, error)
    return ok


async def redeliver(config: MessagingConfig, channel: str, recipient: str,
                    send_text: Callable[[str], Awaitable[Any]]) -> None:
    """Send the replies an earlier outage kept, oldest first, before the new answer."""
    for failure in store.undelivered(config.database_url, channel, recipient):
        ok, attempts, _ = await send_with_retries(lambda f=failure: send_text(f["text"]),
                                                  config.send_retries, config.send_backoff)
        if not ok:
            return
        store.mark_delivered(config.database_url, failure["id"],
                             failure["attempts"] + attempts)


def buttons_awaiting_reply(events: list[Any]) -> list[dict]:
    """The buttons of the newest assistant message since the parent last wrote."""
    buttons: list[dict] = []
    for event in reversed(events):
        name = getattr(event, "type_name", None)
        if name == "user":
            break
        if name == "bot" and buttons == []:
            found = (getattr(event, "data", None) or {}).get("buttons")
            if found:
                buttons = list(found)
    return buttons


async def resolve_choice(app: Any, sender_id: str, text: str) -> str:
    """'1' -> the payload of the first option offered last; anything else unchanged."""
    if not text or len(text) > 12 or not any(ch.isdigit() for ch in text):
        return text
    agent = getattr(app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return text
    tracker = await agent.tracker_store.retrieve(sender_id)
    if tracker is None:
        return text
    return chosen_payload(text, buttons_awaiting_reply(list(tracker.events))) or text


async def run_turn(on_new_message: Callable[[UserMessage], Awaitable[Any]], text: str,
                   sender_id: str, channel: str, metadata: dict | None) -> list[dict]:
    """Run one parent message through Rasa and return the replies it produced, so the
    connector can shape the whole turn for its platform before sending."""
    collector = CollectingOutputChannel()
    await on_new_message(UserMessage(text, collector, sender_id, input_channel=channel,
                                     metadata=metadata))
    return list(collector.messages)
