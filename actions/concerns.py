"""Warm, grounded answers to a concern: validate, what the seeds say, what to try, an
open door; and the follow-ups "words to use" and "tell me more"."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import content
from actions.child import child_from
from actions.replies import buttons, latest_intent, open_door, say_all, text


def _topics() -> set[str]:
    return set((content.load("concerns").get("concerns") or {}).keys())


def answer_concern(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str) -> list:
    """The full answer to one concern; returns the events to apply."""
    entry = content.concern(intent)
    if entry is None:
        dispatcher.utter_message(response="utter_menu")
        return []
    key = f"{tracker.sender_id}:{intent}"
    bubbles = [content.pick(entry.get("validate") or [], key)]
    bubbles += list(entry.get("facts") or [])[:2]
    bubbles += list(entry.get("try") or [])[:2]
    say_all(dispatcher, bubbles)
    open_door(dispatcher, entry.get("open_door") or "Would you like to go on?")
    return [SlotSet("last_topic", intent)]


def child_name_or_default(tracker: Tracker, default: str = "your little one") -> str:
    return child_from(tracker).name or default


class ActionConcernAnswer(Action):
    """Answers any concern or question that has an entry in concerns.yml."""

    def name(self) -> str:
        return "action_concern_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list:
        intent = latest_intent(tracker, _topics())
        if intent is None:
            dispatcher.utter_message(response="utter_menu")
            return []
        return answer_concern(dispatcher, tracker, intent)


def send_words(dispatcher: CollectingDispatcher, tracker: Tracker) -> list:
    """Concrete words for the current topic (the repair script after yelling)."""
    topic = tracker.get_slot("last_topic")
    if topic == "concern_yelling":
        from actions.repair import send_script

        send_script(dispatcher, tracker)
        open_door(dispatcher, text("repair_more"), buttons("more", "other"))
        return []
    entry = content.concern(topic) if topic else None
    if not entry or not entry.get("words"):
        dispatcher.utter_message(text=text("words_which"))
        return []
    name = child_name_or_default(tracker)
    dispatcher.utter_message(text=text("words_intro"))
    say_all(dispatcher, [content.fill(w, name=name) for w in entry["words"]])
    open_door(dispatcher, text("words_after"), buttons("more", "other"))
    return []


class ActionWords(Action):
    def name(self) -> str:
        return "action_words"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list:
        return send_words(dispatcher, tracker)


class ActionMore(Action):
    """Goes deeper on the current topic, from the seeds."""

    def name(self) -> str:
        return "action_more"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list:
        topic = tracker.get_slot("last_topic")
        entry = content.concern(topic) if topic else None
        if not entry or not entry.get("more"):
            dispatcher.utter_message(response="utter_menu")
            return []
        say_all(dispatcher, list(entry["more"]))
        open_door(dispatcher, text("more_after"), buttons("words", "other"))
        return []
