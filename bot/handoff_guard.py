"""What happens to a parent's message while a counsellor has the conversation.

Rasa's paused-conversation mechanism keeps the assistant silent: the message is parsed and
stored in the tracker (so the counsellor sees it) and nothing is predicted. Two things are
added here, for every channel at once, by wrapping the agent's message handler:

* counsellor messages waiting in the outbox (REST cannot be pushed to) go out first;
* a crisis message while no counsellor has claimed the handoff within
  HANDOFF_CLAIM_TIMEOUT seconds gets the static crisis response again: a parent in danger
  is never left with silence.

Being the one place every parent message passes, it also applies the size and rate limits
(bot/message_limits.py) and, after a turn in which the parent confirmed "delete my data",
deletes the conversation's events from the tracker store (bot/conversation_data.py): that
has to happen after Rasa saved the turn, under the conversation's lock.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import BotUttered

from bot import conversation_data, db, message_limits
from bot.settings import load_settings

logger = logging.getLogger(__name__)
CRISIS_INTENTS = ("crisis_self_harm", "crisis_harm_child", "crisis_danger")


def _age_seconds(iso: str | None) -> float:
    if not iso:
        return 0.0
    created = dt.datetime.fromisoformat(iso.rstrip("Z"))
    return (db.now() - created).total_seconds()


class HandoffGuard:
    """Wraps ``agent.handle_message``; conversations without an open handoff pass through."""

    def __init__(self, agent: Any) -> None:
        self.agent = agent
        # Read once: this runs for every parent message (load_settings reads .env).
        self.settings = load_settings()
        self.original: Callable[[UserMessage], Awaitable[Any]] = agent.handle_message
        domain = getattr(agent, "domain", None)
        self.intents = set(getattr(domain, "intents", None) or ())
        self.entities = set(getattr(domain, "entities", None) or ())
        self.limiter = message_limits.RateLimiter(self.settings.rate_limit_messages,
                                                  self.settings.rate_limit_window)

    @classmethod
    def install(cls, agent: Any) -> HandoffGuard:
        if isinstance(getattr(agent.handle_message, "__self__", None), HandoffGuard):
            return agent.handle_message.__self__
        guard = cls(agent)
        agent.handle_message = guard.handle_message
        return guard

    async def handle_message(self, message: UserMessage) -> Any:
        settings = self.settings
        message.text = message_limits.plain_unless_payload(
            message_limits.clean(message.text), self.intents, self.entities)
        if await self._held_back(message):
            return getattr(message.output_channel, "messages", None)
        try:
            handoff = db.open_handoff(settings.database_url, message.sender_id)
        except Exception:  # the database being down must not silence the assistant
            logger.exception("could not read handoff state")
            handoff = None
        if handoff is None:
            await self._outbox(settings.database_url, message)  # e.g. the re-entry message
            result = await self.original(message)
            await self._finish_deletion(message.sender_id)
            return result

        agent = self.agent
        out = message.output_channel
        async with agent.lock_store.lock(message.sender_id):
            await agent.processor.handle_message(message)  # stored; paused: no reply
            tracker = await agent.tracker_store.retrieve(message.sender_id)
            if tracker is not None and not tracker.is_paused():
                # Out of step (e.g. the pause was lost): let the assistant answer.
                logger.warning("handoff %s open but conversation not paused", handoff["id"])
            await self._outbox(settings.database_url, message)
            intent = (tracker.latest_message.intent or {}).get("name") if tracker else None
            if (intent in CRISIS_INTENTS and handoff["state"] == "waiting"
                    and _age_seconds(handoff["created_at"]) >= settings.handoff_claim_timeout):
                await self._crisis_again(tracker, intent, out)
                db.update_handoff(settings.database_url, handoff["id"],
                                  crisis_resent_at=db.now())
                await agent.tracker_store.save(tracker)
        return getattr(out, "messages", None)

    async def _held_back(self, message: UserMessage) -> bool:
        """Too long or too fast: answer kindly instead, unless some part is a crisis (then
        that part goes on as the message)."""
        text = message.text or ""
        too_fast = not self.limiter.allow(message.sender_id)
        too_long = len(text) > self.settings.max_message_chars
        if not (too_fast or too_long):
            return False
        risky = await message_limits.riskiest_part(text, self.settings.max_message_chars,
                                                   self.agent.parse_message)
        if risky is not None:
            message.text = risky
            return False
        reason = "too_fast" if too_fast else "too_long"
        logger.info("message held back: %s (%d characters)", reason, len(text))
        await message.output_channel.send_text_message(message.sender_id,
                                                       message_limits.texts()[reason])
        return True

    async def _finish_deletion(self, sender_id: str) -> None:
        """The parent confirmed deletion in this turn: delete the saved events now."""
        url = self.settings.database_url
        try:
            if not conversation_data.pending_deletion(url, sender_id):
                return
            async with self.agent.lock_store.lock(sender_id):
                removed = conversation_data.complete_deletion(url, sender_id)
            logger.info("conversation deleted at the parent's request (%d events)", removed)
        except Exception:  # the request stays pending; `python -m bot purge` finishes it
            logger.exception("could not complete a requested deletion")

    @staticmethod
    async def _outbox(url: str, message: UserMessage) -> None:
        """Counsellor messages the parent's channel could not be pushed go out first."""
        try:
            pending = db.take_outbox(url, message.sender_id)
        except Exception:
            logger.exception("could not read the outbox")
            return
        for text in pending:
            await message.output_channel.send_text_message(message.sender_id, text)

    async def _crisis_again(self, tracker: Any, intent: str, out: Any) -> None:
        name = f"utter_{intent}"
        response = await self.agent.nlg.generate(name, tracker, out.name())
        if not response or not response.get("text"):
            response = await self.agent.nlg.generate("utter_crisis_general", tracker,
                                                     out.name())
        if not response:
            return
        await out.send_response(tracker.sender_id, response)
        tracker.update(BotUttered(response.get("text"), metadata={"utter_action": name,
                                                                   "handoff": "crisis_again"}))
