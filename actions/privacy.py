"""Delete-my-data: the parent asked (and confirmed) that this conversation be deleted.

The project's records go here at once; the tracker's events are deleted by the Rasa
server right after this turn (bot/handoff_guard.py), because Rasa saves the tracker at the
end of the turn and would write back anything deleted now.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import Restarted
from rasa_sdk.executor import CollectingDispatcher

from actions import content
from bot import conversation_data
from bot.settings import load_settings

logger = logging.getLogger(__name__)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


class ActionDeleteMyData(Action):
    def name(self) -> str:
        return "action_delete_my_data"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list:
        msgs = content.load("privacy")
        try:
            done = conversation_data.request_deletion(load_settings().database_url,
                                                      tracker.sender_id)
        except Exception:
            logger.exception("deletion request failed")
            dispatcher.utter_message(text=" ".join(msgs["failed"].split()))
            return []
        written = sum(1 for e in tracker.events if e.get("event") == "user"
                      and not str(e.get("text") or "").startswith("/"))
        parts = [content.fill(msgs["deleted"], messages=_plural(written, "message"))]
        if done["outbox"]:
            parts.append(msgs["deleted_counsellor"])
        if done["escalations"]:
            parts.append(msgs["deleted_crisis"])
        parts.append(msgs["deleted_after"])
        for part in parts:
            dispatcher.utter_message(text=" ".join(part.split()))
        # The conversation starts afresh (no slots, no topic) even before the events go.
        return [Restarted()]
