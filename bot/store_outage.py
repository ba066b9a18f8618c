"""When the conversation store (PostgreSQL) cannot be reached: a clear, kind answer and
nothing half-written, instead of a conversation quietly continued in memory.

Rasa wraps every tracker store in ``FailSafeTrackerStore``: when the database fails it
logs, answers ``None`` to ``retrieve`` (so the assistant starts the conversation over,
without its history) and saves into a per-process ``InMemoryTrackerStore`` that other
processes never see and that is lost on restart. With several ``rasa run`` processes that
makes conversations diverge; with one it silently forgets. Here the store's error is
raised instead, so the turn is not processed (or not kept: Rasa saves a turn in one
transaction at its end), and the parent is told plainly to send the message again. A
crisis message still gets the static crisis response first (NLU needs no database).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.trackers import DialogueStateTracker

from actions.content import load as load_content
from bot.handoff_guard import CRISIS_INTENTS

logger = logging.getLogger(__name__)
OUTAGE_UTTER = "store_unavailable"


class StoreUnavailable(RuntimeError):
    """The tracker store could not read or save a conversation."""


def _raise(error: Exception) -> None:
    raise StoreUnavailable(f"{type(error).__name__}") from error


def outage_text() -> str:
    return " ".join(load_content("service_trouble")["store_unavailable"].split())


class StoreOutageGuard:
    """Wraps ``agent.handle_message`` (outermost) and makes the tracker store strict."""

    def __init__(self, agent: Any) -> None:
        self.agent = agent
        self.original: Callable[[UserMessage], Awaitable[Any]] = agent.handle_message

    @classmethod
    def install(cls, agent: Any) -> StoreOutageGuard:
        if isinstance(getattr(agent.handle_message, "__self__", None), StoreOutageGuard):
            return agent.handle_message.__self__
        store = agent.tracker_store
        if hasattr(store, "_on_tracker_store_error"):  # FailSafeTrackerStore: no fallback
            store._on_tracker_store_error = _raise
        guard = cls(agent)
        agent.handle_message = guard.handle_message
        return guard

    async def handle_message(self, message: UserMessage) -> Any:
        try:
            return await self.original(message)
        except StoreUnavailable as error:
            logger.error("conversation store unavailable (%s): message not taken in",
                         error.__cause__ or error)
        out = message.output_channel
        if isinstance(getattr(out, "messages", None), list):
            out.messages.clear()  # REST: nothing of a turn that was not kept
        await self._crisis_first(message)
        await out.send_text_message(message.sender_id, outage_text())
        return getattr(out, "messages", None)

    async def _crisis_first(self, message: UserMessage) -> None:
        """The static crisis response for a crisis message (country unknown)."""
        try:
            parsed = await self.agent.parse_message(message.text or "")
        except Exception:
            logger.exception("could not parse the message during a store outage")
            return
        intent = (parsed.get("intent") or {}).get("name")
        if intent not in CRISIS_INTENTS:
            return
        out = message.output_channel
        tracker = DialogueStateTracker(message.sender_id, self.agent.domain.slots)
        response = await self.agent.nlg.generate(f"utter_{intent}", tracker, out.name())
        if response:
            await out.send_response(message.sender_id, response)
