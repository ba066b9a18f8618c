"""Signs of secure attachment and ways to build it, by the seeds' age bands; the age
form that asks for the age once and remembers it."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import content
from actions.child import age_slots, child_from
from actions.replies import buttons, latest_intent, open_door, say_all, text

AGE_TOPICS = {"ask_attachment_signs", "ask_build_attachment"}


def send_by_age(dispatcher: CollectingDispatcher, tracker: Tracker, topic: str) -> list:
    data = content.load("by_age")
    child = child_from(tracker)
    band = data["bands"].get(child.band or "")
    who = child.name or "your child"
    if topic == "ask_attachment_signs":
        if band:
            dispatcher.utter_message(text=text("signs_intro", band=child.band or ""))
            say_all(dispatcher, list(band["signs"]))
            say_all(dispatcher, [band.get("notice", "")])
        else:
            say_all(dispatcher, list(data["general_signs"]["signs"]))
        question, choices = text("signs_next", who=who), buttons("build", "other")
    else:
        if band:
            dispatcher.utter_message(text=text("build_intro", band=child.band or ""))
            say_all(dispatcher, list(band["build"]))
        else:
            say_all(dispatcher, list(data["general_build"]["build"]))
        question, choices = text("build_next"), buttons("signs", "other")
    open_door(dispatcher, question, choices)
    return [SlotSet("last_topic", topic)]


class ActionAttachmentByAge(Action):
    def name(self) -> str:
        return "action_attachment_by_age"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list:
        topic = latest_intent(tracker, AGE_TOPICS) or "ask_attachment_signs"
        return send_by_age(dispatcher, tracker, topic)


class ValidateChildAgeForm(FormValidationAction):
    """Keeps only answers that hold an age; stores months and band beside the text."""

    def name(self) -> str:
        return "validate_child_age_form"

    async def validate_child_age(self, slot_value: Any, dispatcher: CollectingDispatcher,
                                 tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        slots = age_slots(str(slot_value) if slot_value is not None else None)
        if not slots:
            dispatcher.utter_message(text=text("age_not_understood"))
            return {"child_age": None}
        return slots


class ActionAskChildAge(Action):
    """The age form's question, using the child's name when known."""

    def name(self) -> str:
        return "action_ask_child_age"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list:
        dispatcher.utter_message(text=text("ask_age",
                                           who=child_from(tracker).name or "your child"))
        return []


class ActionNoteAge(Action):
    """An age given outside the form: remember it and, if it changes the answer, re-fit."""

    def name(self) -> str:
        return "action_note_age"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list:
        entity = next(tracker.get_latest_entity_values("child_age"), None)
        slots = age_slots(entity) or age_slots(tracker.latest_message.get("text"))
        if not slots:
            dispatcher.utter_message(text=text("age_not_understood"))
            return []
        events = [SlotSet(k, v) for k, v in slots.items()]
        topic = tracker.get_slot("last_topic")
        updated = tracker.copy()
        for event in events:
            updated.slots[event["name"]] = event["value"]
        if topic == "concern_yelling":
            from actions.repair import send_script

            dispatcher.utter_message(text=text("age_refit"))
            send_script(dispatcher, updated)
        elif topic in AGE_TOPICS:
            events += send_by_age(dispatcher, updated, topic)
        else:
            dispatcher.utter_message(text=text("age_noted"))
        return events
