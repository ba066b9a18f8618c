"""How answers are sent: short bubbles, and an open door so the conversation can go on."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import content


def text(key: str, **values: str) -> str:
    """Conversation wording from content/conversation.yml, placeholders filled."""
    return content.fill(content.load("conversation")[key], **values)


def buttons(*keys: str) -> list[dict]:
    """Quick replies by key (words, more, other, build, signs)."""
    table = content.load("conversation")["buttons"]
    return [dict(table[k]) for k in keys]


def say_all(dispatcher: CollectingDispatcher, bubbles: list[str]) -> None:
    """Send each bubble as its own short message (phone screens)."""
    for bubble in bubbles:
        if bubble and bubble.strip():
            dispatcher.utter_message(text=bubble.strip())


def open_door(dispatcher: CollectingDispatcher, question: str,
              choices: list[dict] | None = None) -> None:
    """End an answer with a question and quick replies."""
    dispatcher.utter_message(text=question,
                             buttons=choices or buttons("words", "more", "other"))


def latest_intent(tracker: Tracker, among: set[str] | None = None) -> str | None:
    """The newest user intent (optionally the newest one from a set)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            name = (event.get("parse_data") or {}).get("intent", {}).get("name")
            if among is None or name in among:
                return name
    return None
