"""Every custom action, run with a real rasa-sdk Tracker and CollectingDispatcher."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.by_age import (
    ActionAskChildAge,
    ActionAttachmentByAge,
    ActionNoteAge,
    ValidateChildAgeForm,
)
from actions.concerns import ActionConcernAnswer, ActionMore, ActionWords
from actions.crisis import (
    ActionCrisisFollowup,
    ActionHandoffAnswer,
    ActionSafetyNo,
    ActionSetCountry,
)
from actions.fallback import ActionAffirm, ActionGentleFallback
from actions.repair import ActionRepair, script_for
from bot.db import latest_escalation, open_handoff

CONCERNS = ["concern_working_parent", "concern_bonding", "concern_postpartum_mood",
            "concern_too_late", "concern_own_childhood", "concern_tantrums",
            "concern_separation", "concern_multiple_caregivers", "concern_spoiling",
            "concern_parent_guilt", "ask_attachment_styles", "ask_professional_help"]


def user(intent: str, text: str = "", entities: list | None = None,
         **extra: Any) -> dict[str, Any]:
    parse = {"intent": {"name": intent, "confidence": 0.9}, "entities": entities or [],
             "text": text, **extra}
    return {"event": "user", "text": text, "parse_data": parse,
            "input_channel": "rest"}


def tracker(events: list[dict], slots: dict | None = None,
            sender: str | None = None) -> Tracker:
    latest = next((e["parse_data"] for e in reversed(events) if e["event"] == "user"), {})
    return Tracker(sender or uuid.uuid4().hex, slots or {}, latest, events, False, None,
                   {}, "action_listen")


def run(action, trk: Tracker) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, trk, {}))
    return dispatcher.messages, events


def all_text(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


@pytest.fixture(autouse=True)
def temp_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'actions.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("DEFAULT_COUNTRY", raising=False)
    monkeypatch.delenv("STORE_MESSAGE_TEXT", raising=False)
    return url


@pytest.mark.parametrize("intent", CONCERNS)
def test_concern_answer_validates_advises_and_opens_a_door(intent):
    messages, events = run(ActionConcernAnswer(), tracker([user(intent, "hi")]))
    assert len(messages) >= 3
    assert messages[-1].get("buttons"), "must end with an open door"
    assert all(len(m["text"]) <= 300 for m in messages)
    assert {"event": "slot", "name": "last_topic", "value": intent} in \
        [{k: e[k] for k in ("event", "name", "value")} for e in events]


@pytest.mark.parametrize("intent", ["concern_bonding", "concern_postpartum_mood"])
def test_perinatal_answers_nudge_to_a_healthcare_provider(intent):
    messages, _ = run(ActionConcernAnswer(), tracker([user(intent, "hi")]))
    body = all_text(messages).lower()
    assert any(w in body for w in ("doctor", "gp", "midwife", "health visitor",
                                   "healthcare provider"))


def test_repair_uses_name_and_age_band():
    toddler = run(ActionRepair(), tracker([user("concern_yelling", "yelled")],
                                          {"child_name": "my son Leo", "age_months": 24}))[0]
    older = run(ActionRepair(), tracker([user("concern_yelling", "yelled")],
                                        {"child_name": "my son Leo", "age_months": 108}))[0]
    assert "Leo" in all_text(toddler) and "Leo" in all_text(older)
    assert script_for("toddler", "Leo") != script_for("school", "Leo")
    assert all_text(toddler) != all_text(older)
    assert toddler[-1].get("buttons")


def test_repair_without_age_asks_for_it():
    messages, _ = run(ActionRepair(), tracker([user("concern_yelling", "i screamed")]))
    assert "old" in messages[-1]["text"].lower()


def test_words_after_yelling_give_the_script():
    messages, _ = run(ActionWords(), tracker([user("request_words")],
                                            {"last_topic": "concern_yelling",
                                             "child_name": "my daughter Maya",
                                             "age_months": 40}))
    assert "Maya" in all_text(messages)


def test_words_and_more_for_separation():
    slots = {"last_topic": "concern_separation"}
    words, _ = run(ActionWords(), tracker([user("request_words")], slots))
    more, _ = run(ActionMore(), tracker([user("request_more")], slots))
    assert len(words) >= 2 and len(more) >= 2
    assert all_text(words) != all_text(more)


def test_words_without_topic_ask_which_situation():
    messages, _ = run(ActionWords(), tracker([user("request_words")]))
    assert "situation" in all_text(messages)


@pytest.mark.parametrize("months, band", [(3, "0-6 months"), (9, "6-12 months"),
                                          (18, "1-2 years"), (30, "2-4 years"),
                                          (84, "4+ years")])
def test_signs_by_age_band(months, band):
    messages, _ = run(ActionAttachmentByAge(),
                      tracker([user("ask_attachment_signs")], {"age_months": months}))
    assert band in all_text(messages)


def test_build_by_age_differs_from_signs():
    slots = {"age_months": 30}
    signs, _ = run(ActionAttachmentByAge(), tracker([user("ask_attachment_signs")], slots))
    build, _ = run(ActionAttachmentByAge(), tracker([user("ask_build_attachment")], slots))
    assert all_text(signs) != all_text(build)


def test_age_form_validation_keeps_months_and_band():
    form = ValidateChildAgeForm()
    dispatcher = CollectingDispatcher()
    good = asyncio.run(form.validate_child_age("she's 3", dispatcher, tracker([]), {}))
    assert good == {"child_age": "she's 3", "age_months": 36.0, "age_band": "2-4 years"}
    bad = asyncio.run(form.validate_child_age("no idea", dispatcher, tracker([]), {}))
    assert bad == {"child_age": None}
    assert "didn't catch an age" in dispatcher.messages[-1]["text"]


def test_note_age_refits_repair_words():
    entities = [{"entity": "child_age", "value": "9 years old"}]
    messages, events = run(ActionNoteAge(), tracker(
        [user("inform_age", "he's 9 years old", entities)], {"last_topic": "concern_yelling"}))
    names = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert names["age_band"] == "4+ years" and names["age_months"] == 108
    assert all_text(messages).strip()


@pytest.mark.parametrize("intent, text, need_word", [
    ("crisis_self_harm", "i want to die", "Samaritans"),
    ("crisis_harm_child", "i want to shake him", "NSPCC"),
])
def test_crisis_followup_localises_records_and_offers(temp_db, intent, text, need_word):
    sender = uuid.uuid4().hex
    net = {"fired": True, "layer": "pattern",
           "pattern": {"crisis_danger": "domestic_violence"}.get(intent)}
    trk = tracker([user(intent, text, safety_net=net)], {"country": "UK"}, sender=sender)
    messages, events = run(ActionCrisisFollowup(), trk)
    body = all_text(messages)
    assert need_word in body, body
    assert messages[-1].get("buttons"), "offer of a person"
    row = latest_escalation(temp_db, sender)
    assert row.crisis_type == intent and row.handoff_offered and row.message_text is None
    assert {"event": "slot", "name": "handoff_offered", "value": True} in \
        [{k: e[k] for k in ("event", "name", "value")} for e in events]


def test_violence_now_starts_the_handoff_at_once(temp_db):
    sender = uuid.uuid4().hex
    net = {"fired": True, "layer": "pattern", "pattern": "domestic_violence"}
    trk = tracker([user("crisis_danger", "my husband hits me", safety_net=net)],
                  {"country": "UK"}, sender=sender)
    messages, events = run(ActionCrisisFollowup(), trk)
    body = all_text(messages)
    assert "Domestic Abuse" in body and "counsellor" in body, body
    assert not any(m.get("buttons") for m in messages), "no offer: the handoff starts"
    assert any(e["event"] == "pause" for e in events)
    handoff = open_handoff(temp_db, sender)
    assert handoff["state"] == "waiting" and handoff["crisis_type"] == "crisis_danger"


def test_medical_emergency_followup_has_no_helpline_before_emergency(temp_db):
    net = {"fired": True, "layer": "pattern", "pattern": "not_breathing"}
    messages, _ = run(ActionCrisisFollowup(), tracker(
        [user("crisis_danger", "baby not breathing", safety_net=net)], {"country": "US"}))
    assert "988" not in all_text(messages)
    assert "emergency" in messages[0]["text"].lower()


def test_perinatal_line_added_after_the_birth(temp_db):
    events = [user("concern_postpartum_mood", "so low since the birth"),
              user("crisis_self_harm", "i want to die", safety_net={"layer": "classifier"})]
    messages, _ = run(ActionCrisisFollowup(), tracker(events, {"country": "US"}))
    assert "Maternal Mental Health" in all_text(messages) or "1-833-852-6262" in \
        all_text(messages)


def test_message_text_stored_only_when_configured(temp_db, monkeypatch):
    monkeypatch.setenv("STORE_MESSAGE_TEXT", "true")
    sender = uuid.uuid4().hex
    run(ActionCrisisFollowup(), tracker([user("crisis_self_harm", "i want to die")],
                                        sender=sender))
    assert latest_escalation(temp_db, sender).message_text == "i want to die"


@pytest.mark.parametrize("intent, answer", [("affirm", "yes"), ("deny", "no")])
def test_handoff_answer_is_recorded(temp_db, intent, answer):
    sender = uuid.uuid4().hex
    run(ActionCrisisFollowup(), tracker([user("crisis_self_harm", "i want to die")],
                                        {"country": "UK"}, sender=sender))
    messages, events = run(ActionHandoffAnswer(), tracker(
        [user(intent, intent)], {"country": "UK", "crisis_type": "crisis_self_harm"},
        sender=sender))
    assert latest_escalation(temp_db, sender).handoff_answer == answer
    assert messages and {"event": "slot", "name": "handoff_offered", "value": False} in \
        [{k: e.get(k) for k in ("event", "name", "value")} for e in events]
    assert any(e["event"] == "pause" for e in events) == (answer == "yes")


def test_safety_no_answers_the_original_concern():
    events = [user("possible_crisis", "i can't cope anymore with work",
                   safety_net={"original_intent": "concern_working_parent"}),
              user("deny", "no")]
    messages, slot_events = run(ActionSafetyNo(), tracker(events))
    assert len(messages) >= 3 and messages[-1].get("buttons")
    assert slot_events[-1]["value"] == "concern_working_parent"


@pytest.mark.parametrize("said, country", [("england", "UK"), ("USA", "US"),
                                           ("new zealand", "New Zealand")])
def test_set_country_canonicalises(said, country):
    ents = [{"entity": "country", "value": said}]
    messages, events = run(ActionSetCountry(), tracker([user("inform_country", said, ents)]))
    assert events[-1]["value"] == country and country in all_text(messages)


def test_set_country_after_crisis_resends_numbers():
    ents = [{"entity": "country", "value": "uk"}]
    messages, _ = run(ActionSetCountry(), tracker([user("inform_country", "uk", ents)],
                                                  {"crisis_type": "crisis_self_harm"}))
    assert "999" in all_text(messages) and "116 123" in all_text(messages)


def test_unknown_country_points_to_directory():
    ents = [{"entity": "country", "value": "germany"}]
    messages, _ = run(ActionSetCountry(), tracker([user("inform_country", "germany", ents)]))
    assert "findahelpline" in all_text(messages).lower()


def test_fallback_asks_for_more_then_offers_menu():
    one = run(ActionGentleFallback(), tracker([user("nlu_fallback", "hmm")]))[0]
    two = run(ActionGentleFallback(), tracker([user("nlu_fallback", "hmm"),
                                              user("nlu_fallback", "blah")]))[0]
    assert "bit more" in one[0]["text"]
    assert two[0]["response"] == "utter_menu"


def test_fallback_on_empty_message():
    messages, _ = run(ActionGentleFallback(), tracker([user("nlu_fallback", "  ")]))
    assert "empty" in messages[0]["text"]


def test_affirm_after_an_answer_gives_words():
    messages, _ = run(ActionAffirm(), tracker([user("affirm", "yes")],
                                              {"last_topic": "concern_separation"}))
    assert len(messages) >= 2
    menu, _ = run(ActionAffirm(), tracker([user("affirm", "yes")]))
    assert menu[0]["response"] == "utter_menu"


def test_age_question_uses_the_name():
    named, _ = run(ActionAskChildAge(), tracker([user("ask_attachment_signs")],
                                                {"child_name": "my daughter Amira"}))
    plain, _ = run(ActionAskChildAge(), tracker([user("ask_attachment_signs")]))
    assert "Amira" in named[0]["text"] and "your child" in plain[0]["text"]
