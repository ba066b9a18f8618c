"""Starting a handoff to a human counsellor: record it, tell the helpline, pause the bot.

The assistant goes quiet only when someone has been told: if the helpline's webhook cannot
be reached, the parent hears that plainly, gets the numbers again, and the assistant stays.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import content
from bot import db, helplines
from bot.crisis_responses import emergency_list
from bot.helpline_notify import notify, payload
from bot.settings import Settings, load_settings

logger = logging.getLogger(__name__)
NEEDS = {"crisis_harm_child": ["harm_child", "self_harm"], "crisis_danger": ["abuse"],
         "crisis_self_harm": ["self_harm"]}


def emergency_text(country: str | None) -> str:
    number = helplines.emergency_number(country)
    return number or f"your local emergency number ({emergency_list()})"


def lines_text(country: str | None, crisis_type: str | None) -> str:
    """The lines to call now, for the crisis type (the directory site when unknown)."""
    found = [f"• {line.as_text()}" for need in NEEDS.get(crisis_type or "", ["self_harm"])
             for line in helplines.lines(country, need)]
    if not found:
        name, url = helplines.directory_site()
        return f"{name} ({url}) lists free crisis lines in every country."
    return "\n".join(dict.fromkeys(found))


def summary(crisis_type: str | None, reason: str, detected_by: str | None) -> str:
    """A short line for the counsellor; never the parent's words."""
    if reason == "request":
        return "The parent asked to talk to a person."
    kind = (crisis_type or "crisis").replace("crisis_", "").replace("_", " ")
    how = f" (detected by {detected_by})" if detected_by else ""
    return f"Crisis: {kind}{how}. The parent accepted the offer of a counsellor."


async def start_handoff(dispatcher: CollectingDispatcher, tracker: Tracker,
                        reason: str = "crisis", settings: Settings | None = None,
                        crisis_type: str | None = None) -> list:
    """Open the handoff, notify the helpline, then pause, or say plainly that it failed.

    ``crisis_type`` defaults to the slot; the crisis follow-up passes the one it is setting.
    """
    settings = settings or load_settings()
    msgs = content.load("handoff")
    country = helplines.canonical_country(tracker.get_slot("country")) or \
        helplines.canonical_country(settings.default_country)
    if reason == "crisis":
        crisis_type = crisis_type or tracker.get_slot("crisis_type")
    else:
        crisis_type = None
    emergency = emergency_text(country)
    try:
        existing = db.open_handoff(settings.database_url, tracker.sender_id)
        if existing:
            dispatcher.utter_message(text=msgs["already_open"])
            return [ConversationPaused()]
        handoff = db.create_handoff(
            settings.database_url, conversation_id=tracker.sender_id,
            channel=tracker.get_latest_input_channel(), crisis_type=crisis_type,
            reason=reason, country=country,
            notify_state="pending" if settings.helpline_webhook_url else "not_configured")
    except Exception:
        logger.exception("could not record a handoff")
        handoff = None

    delivered, error, attempts = False, "database", 0
    if handoff is not None and not settings.helpline_webhook_url:
        delivered, error = True, None  # console only: counsellors watch the console
    elif handoff is not None:
        detected_by = None
        esc = db.latest_escalation(settings.database_url, tracker.sender_id)
        if esc is not None:
            detected_by = esc.detected_by
        result = await notify(settings, payload(handoff, settings,
                                                summary(crisis_type, reason, detected_by)))
        delivered, error, attempts = result.delivered, result.error, result.attempts
        db.update_handoff(
            settings.database_url, handoff["id"], notify_attempts=attempts,
            notify_state="delivered" if delivered else "failed", notify_error=error,
            notified_at=db.now() if delivered else None,
            **({} if delivered else {"state": "failed", "closed_at": db.now()}))

    if not delivered:
        dispatcher.utter_message(text=msgs["failed"])
        dispatcher.utter_message(text=msgs["failed_lines"].format(
            lines=lines_text(country, crisis_type or "crisis_self_harm")))
        dispatcher.utter_message(text=msgs["failed_emergency"].format(emergency=emergency))
        return [SlotSet("handoff_offered", False)]
    key = "started" if reason == "crisis" else "started_request"
    dispatcher.utter_message(text=msgs[key].format(minutes=settings.handoff_wait_minutes))
    dispatcher.utter_message(text=msgs["started_emergency"].format(emergency=emergency))
    return [SlotSet("handoff_offered", False), ConversationPaused()]


class ActionStartHandoff(Action):
    """'Can I talk to a real person?': ask a counsellor to join this conversation."""

    def name(self) -> str:
        return "action_start_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list:
        reason = "crisis" if tracker.get_slot("crisis_type") else "request"
        return await start_handoff(dispatcher, tracker, reason)
