"""Crisis follow-up: after the static response, localise the lines for the crisis type,
record the escalation, offer a person; handle the answers and the country."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import content
from actions.concerns import answer_concern
from actions.handoff import start_handoff
from actions.replies import text
from bot import helplines
from bot.crisis_pattern_file import load_pattern_file
from bot.db import record_escalation, set_handoff_answer
from bot.settings import load_settings

logger = logging.getLogger(__name__)

CRISIS_INTENTS = {"crisis_self_harm", "crisis_harm_child", "crisis_danger"}
PERINATAL_INTENTS = {"concern_postpartum_mood", "concern_bonding"}
PERINATAL_WORDS = re.compile(
    r"\b(birth|born|postpartum|post-partum|postnatal|post natal|pnd|ppd|baby blues|newborn|"
    r"since having|maternity|pregnan\w*)\b", re.IGNORECASE)
# For danger found by DIET alone (no pattern), route by a few plain words.
DANGER_ROUTES = [
    ("emergency_only", re.compile(r"breath|blue|floppy|limp|unresponsive|seizure|fit\b|"
                                  r"swallow|poison|overdos|bleach|battery|unconscious|"
                                  r"won'?t wake|vomit", re.I)),
    ("abuse", re.compile(r"husband|partner|boyfriend|wife|girlfriend|\bex\b|hits me|"
                         r"beats me|chok|strangl|threat", re.I)),
    ("self_harm", re.compile(r"suicid|kill (him|her|them)sel|cutting|self.?harm|want(s)? "
                             r"to die", re.I)),
    ("harm_child", re.compile(r"abus|touch|molest|groom", re.I)),
]


def messages() -> dict[str, Any]:
    return content.load("crisis_messages")


def pattern_lines() -> dict[str, str]:
    data = load_pattern_file()
    return {e["id"]: e["line"] for e in data.get("crisis_danger", []) if e.get("line")}


def crisis_context(tracker: Tracker) -> tuple[str, str, str | None, str]:
    """(crisis type, detecting layer, pattern id, needs key) for the latest message."""
    parse = tracker.latest_message or {}
    intent = (parse.get("intent") or {}).get("name")
    net = parse.get("safety_net") or {}
    pattern = net.get("pattern")
    if intent not in CRISIS_INTENTS:  # "yes" to the safety question
        return "crisis_general", "safety_question", None, "general"
    layer = net.get("layer") or "classifier"
    if intent == "crisis_self_harm":
        return intent, layer, pattern, "self_harm"
    if intent == "crisis_harm_child":
        return intent, layer, pattern, "harm_child"
    need = pattern_lines().get(pattern or "")
    if need is None:
        text = parse.get("text") or ""
        need = next((n for n, rx in DANGER_ROUTES if rx.search(text)), "danger_general")
    return intent, layer, pattern, need


def needs_for(need: str) -> list[str]:
    return {"self_harm": ["self_harm"], "harm_child": ["harm_child", "self_harm"],
            "abuse": ["abuse", "harm_child"], "general": ["self_harm", "harm_child"],
            "danger_general": ["abuse", "harm_child", "self_harm"],
            "emergency_only": []}[need]


def is_perinatal(tracker: Tracker) -> bool:
    for event in tracker.events:
        if event.get("event") == "user":
            name = (event.get("parse_data") or {}).get("intent", {}).get("name")
            if name in PERINATAL_INTENTS:
                return True
    return bool(PERINATAL_WORDS.search((tracker.latest_message or {}).get("text") or ""))


def bot_texts_since_user(tracker: Tracker) -> list[str]:
    """What the bot already sent for the latest message (the static response)."""
    sent: list[str] = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        if event.get("event") == "bot" and event.get("text"):
            sent.insert(0, event["text"])
    return sent


class ActionCrisisFollowup(Action):
    def name(self) -> str:
        return "action_crisis_followup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list:
        msgs = messages()["followup"]
        crisis_type, layer, pattern, need = crisis_context(tracker)
        country = helplines.canonical_country(tracker.get_slot("country")) or \
            helplines.canonical_country(load_settings().default_country)
        sent_now: list[str] = []

        def say(text: str, **kwargs: Any) -> None:
            dispatcher.utter_message(text=text, **kwargs)
            sent_now.append(text)

        offer = need != "emergency_only"
        # Violence or abuse happening now: a person is asked to join at once, no offer.
        imminent = need == "abuse"
        if need == "emergency_only":
            say(msgs["emergency_only"])
        elif country:
            already = " ".join(bot_texts_since_user(tracker))
            extra = [line.as_text() for n in needs_for(need)
                     for line in helplines.lines(country, n) if line.as_text() not in already]
            extra = list(dict.fromkeys(extra))
            if extra:
                say(msgs["more_lines"].format(country=country) + "\n" +
                    "\n".join(f"• {x}" for x in extra))
            if is_perinatal(tracker):
                peri = [line.as_text() for line in helplines.lines(country, "perinatal")]
                if peri:
                    say(msgs["perinatal"] + "\n" + "\n".join(f"• {x}" for x in peri))
        if offer and not imminent:
            say(msgs["offer"], buttons=msgs["offer_buttons"])

        settings = load_settings()
        try:
            record_escalation(
                settings.database_url,
                conversation_id=tracker.sender_id,
                crisis_type=crisis_type,
                detected_by=layer,
                pattern=pattern,
                channel=tracker.get_latest_input_channel(),
                country=country,
                sent=bot_texts_since_user(tracker) + sent_now,
                handoff_offered=offer and not imminent,
                message_text=(tracker.latest_message or {}).get("text")
                if settings.store_message_text else None,
            )
        except Exception:  # the parent's reply matters more than the record
            logger.exception("could not record escalation for a conversation")
        events = [SlotSet("crisis_type", crisis_type)]
        if imminent:
            return events + await start_handoff(dispatcher, tracker, "crisis", settings,
                                                crisis_type=crisis_type)
        return events + [SlotSet("handoff_offered", offer)]


class ActionHandoffAnswer(Action):
    """Records the parent's answer to the offer of a person; yes starts the handoff."""

    def name(self) -> str:
        return "action_handoff_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list:
        msgs = messages()["followup"]
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        answer = "no" if intent == "deny" else "yes"
        try:
            set_handoff_answer(load_settings().database_url, tracker.sender_id, answer)
        except Exception:
            logger.exception("could not record the handoff answer")
        if answer == "no":
            dispatcher.utter_message(text=msgs["handoff_no"])
            return [SlotSet("handoff_offered", False)]
        return await start_handoff(dispatcher, tracker, "crisis")


class ActionSafetyNo(Action):
    """'No' to the safety question: thank them, keep the door open, answer the concern."""

    def name(self) -> str:
        return "action_safety_no"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list:
        dispatcher.utter_message(text=messages()["followup"]["safety_no"])
        original = None
        for event in reversed(tracker.events):
            if event.get("event") == "user":
                parse = event.get("parse_data") or {}
                if (parse.get("intent") or {}).get("name") == "possible_crisis":
                    original = (parse.get("safety_net") or {}).get("original_intent")
                    break
        if original and content.concern(original):
            return answer_concern(dispatcher, tracker, original)
        dispatcher.utter_message(text=text("safety_no_open"))
        return []


class ActionSetCountry(Action):
    """'I'm in the UK' at any point: remember it, and re-send numbers after a crisis."""

    def name(self) -> str:
        return "action_set_country"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list:
        msgs = messages()["followup"]
        said = next(tracker.get_latest_entity_values("country"), None) or \
            tracker.get_slot("country")
        if not said:
            dispatcher.utter_message(text=msgs["country_ask"])
            return []
        country = helplines.canonical_country(said)
        if country is None:
            name, url = helplines.directory_site()
            dispatcher.utter_message(text=msgs["country_unknown"].format(
                country=str(said).title(), directory=f"{name} ({url})"))
            return [SlotSet("country", str(said))]
        dispatcher.utter_message(text=msgs["country_known"].format(country=country))
        crisis_type = tracker.get_slot("crisis_type")
        if crisis_type:
            need = {"crisis_harm_child": "harm_child",
                    "crisis_danger": "abuse"}.get(crisis_type, "self_harm")
            lines = [f"• {line.as_text()}" for n in needs_for(need)
                     for line in helplines.lines(country, n)]
            dispatcher.utter_message(
                text=f"In an emergency call {helplines.emergency_number(country)}.\n"
                     + "\n".join(dict.fromkeys(lines)))
        return [SlotSet("country", country)]
