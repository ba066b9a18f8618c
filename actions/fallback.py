"""When the assistant did not understand: ask gently for more, and after two misses in a
row offer a short menu. Also the plain "yes" outside any question."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.concerns import send_words
from actions.replies import text


def misses_in_a_row(tracker: Tracker) -> int:
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            name = (event.get("parse_data") or {}).get("intent", {}).get("name")
            if name != "nlu_fallback":
                break
            count += 1
    return count


class ActionGentleFallback(Action):
    def name(self) -> str:
        return "action_gentle_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list:
        said = (tracker.latest_message or {}).get("text") or ""
        if not said.strip():
            dispatcher.utter_message(text=text("fallback_empty"))
        elif misses_in_a_row(tracker) >= 2:
            dispatcher.utter_message(response="utter_menu")
        else:
            dispatcher.utter_message(text=text("fallback_more"))
        return []


class ActionAffirm(Action):
    """'Yes' after an answer's open door means the words; otherwise offer topics."""

    def name(self) -> str:
        return "action_affirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list:
        if tracker.get_slot("last_topic"):
            return send_words(dispatcher, tracker)
        dispatcher.utter_message(response="utter_menu")
        return []
