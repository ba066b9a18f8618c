"""How answers end: an open door so the conversation can go on."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

OPEN_DOOR_BUTTONS = [
    {"title": "Words to use", "payload": "/request_words"},
    {"title": "Tell me more", "payload": "/request_more"},
    {"title": "Something else", "payload": "/something_else"},
]


def say_all(dispatcher: CollectingDispatcher, bubbles: list[str]) -> None:
    """Send each bubble as its own short message (phone screens)."""
    for text in bubbles:
        if text and text.strip():
            dispatcher.utter_message(text=text.strip())


def open_door(dispatcher: CollectingDispatcher, question: str,
              buttons: list[dict] | None = None) -> None:
    dispatcher.utter_message(text=question, buttons=buttons or OPEN_DOOR_BUTTONS)


def latest_intent(tracker, among: set[str] | None = None) -> str | None:
    """The newest user intent (optionally the newest one from a set)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            name = (event.get("parse_data") or {}).get("intent", {}).get("name")
            if among is None or name in among:
                return name
    return None
