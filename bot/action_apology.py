"""A short, kind apology instead of silence when a custom action cannot run.

Rasa 3.6 logs a failed custom action (action server down, timing out or answering 500)
and carries on without its events, so a parent whose message needed the action server got
no reply at all. Wrapping ``RemoteAction.run`` turns that failure into an apology the
parent sees and the tracker keeps. If something was already said in this turn (the static
crisis response is sent by Rasa itself, before ``action_crisis_followup``), that stays
the answer and Rasa's own handling applies. Form validation (``validate_*``) keeps Rasa's
handling too: the form's next question is itself a custom action and apologises.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.core.events import BotUttered, UserUttered

from actions.content import load as load_content

logger = logging.getLogger(__name__)
APOLOGY_ACTION = "apology_action_unavailable"


def said_this_turn(tracker: Any) -> bool:
    """Whether the assistant already answered the parent's latest message."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered):
            return True
    return False


def apology_event() -> BotUttered:
    text = " ".join(load_content("service_trouble")["action_unavailable"].split())
    return BotUttered(text, metadata={"utter_action": APOLOGY_ACTION})


def install() -> None:
    """Patch ``RemoteAction.run`` once per process (idempotent)."""
    original = RemoteAction.run
    if getattr(original, "apologises", False):
        return

    async def run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any,
                  domain: Any) -> list:
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except Exception:
            if self.name().startswith("validate_") or said_this_turn(tracker):
                raise
            logger.warning("custom action %s failed; the parent gets an apology",
                           self.name())
            return [apology_event()]

    run.apologises = True  # type: ignore[attr-defined]
    RemoteAction.run = run  # type: ignore[method-assign]
