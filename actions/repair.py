"""After yelling: reassurance that repair builds trust, the steps of repair, and a
repair script fitted to the child's name and age (a toddler hears it differently than a
nine-year-old)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import content
from actions.child import child_from
from actions.replies import buttons, open_door, say_all, text


def script_for(stage: str, name: str | None) -> list[str]:
    """The repair words for a stage (baby, toddler, preschool, school, teen, unknown)."""
    stages = content.load("repair")["stages"]
    entry = stages.get(stage) or stages["unknown"]
    who = name or entry.get("fallback_name") or "your child"
    return [content.fill(line, name=who) for line in entry["script"]]


def send_script(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    child = child_from(tracker)
    who = child.name or "your child"
    dispatcher.utter_message(text=text("repair_words", who=who))
    say_all(dispatcher, script_for(child.stage, child.name))


class ActionRepair(Action):
    """The answer to concern_yelling."""

    def name(self) -> str:
        return "action_repair"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list:
        repair = content.load("repair")
        entry = content.concern("concern_yelling") or {}
        key = f"{tracker.sender_id}:concern_yelling"
        opener = content.pick(entry.get("validate") or [], key)
        say_all(dispatcher, [opener, content.pick(repair["reassurance"], key)])
        dispatcher.utter_message(text=text("repair_intro"))
        say_all(dispatcher, list(repair["steps"]))
        send_script(dispatcher, tracker)
        child = child_from(tracker)
        question = text("repair_ask_age") if child.months is None else text("repair_more")
        open_door(dispatcher, question, buttons("more", "other"))
        return [SlotSet("last_topic", "concern_yelling")]
