"""The rules that shape replies for SMS/WhatsApp and Telegram, and which connectors start."""

from __future__ import annotations

import re

import pytest
import yaml

from actions import content
from bot.channels.formatting import (
    TELEGRAM_MAX_CHARS,
    TWILIO_MAX_CHARS,
    chosen_payload,
    compose_turn,
    gsm_friendly,
    numbered_options,
    split_message,
)
from bot.channels.messaging import buttons_awaiting_reply
from bot.channels.twilio import keyword
from bot.credentials import TEMPLATE, enabled_channels, write_credentials

SENTENCES = [f"This is sentence number {i} about staying close to your child." for i in range(300)]


@pytest.mark.parametrize("limit", [160, TWILIO_MAX_CHARS, TELEGRAM_MAX_CHARS])
def test_long_text_is_split_under_the_limit_at_sentence_ends(limit):
    text = " ".join(SENTENCES)
    parts = split_message(text, limit)
    assert len(parts) > 1 and all(len(p) <= limit for p in parts)
    assert all(p.endswith(".") for p in parts), "no sentence is cut"
    assert " ".join(parts) == text, "nothing lost or changed"


def test_paragraphs_are_kept_together_when_they_fit():
    text = "First paragraph.\n\nSecond one.\n\nThird."
    assert split_message(text, 1600) == [text]
    assert split_message(text, 30) == ["First paragraph.\n\nSecond one.", "Third."]


def test_a_sentence_longer_than_the_limit_is_cut_between_words():
    words = "word " * 100
    parts = split_message(words, 50)
    assert all(len(p) <= 50 for p in parts) and all(not p.endswith("wor") for p in parts)
    assert split_message("x" * 120, 50) == ["x" * 50, "x" * 50, "x" * 20]
    assert split_message("   ", 50) == []


def test_numbered_options():
    short = [{"title": "Words to use", "payload": "/request_words"},
             {"title": "Tell me more", "payload": "/request_more"}]
    assert numbered_options(short) == "Reply 1 for words to use, 2 for tell me more."
    assert numbered_options([{"title": "I yelled and want to repair", "payload": "/a"},
                             {"title": "Yes", "payload": "/b"}]).startswith(
        "Reply 1 for I yelled")
    menu = [{"title": f"A longer topic title number {i}", "payload": f"/t{i}"}
            for i in range(6)]
    assert numbered_options(menu).splitlines()[1:] == [
        f"{i + 1}. A longer topic title number {i}" for i in range(6)]
    assert numbered_options([]) == ""


@pytest.mark.parametrize("reply,expected", [("1", "/a"), (" 2. ", "/b"), ("#2", "/b"),
                                            ("option 1", "/a"), ("3", None), ("0", None),
                                            ("12 months", None), ("my son is 2", None),
                                            ("", None)])
def test_a_number_picks_an_option(reply, expected):
    assert chosen_payload(reply, [{"payload": "/a"}, {"payload": "/b"}]) == expected


def test_numbers_resolve_against_the_newest_buttons_since_the_parent_wrote():
    class Event:
        def __init__(self, type_name, buttons=None):
            self.type_name, self.data = type_name, {"buttons": buttons} if buttons else {}

    old, new = [{"payload": "/old"}], [{"payload": "/new"}]
    assert buttons_awaiting_reply([Event("bot", old), Event("user"), Event("bot", new),
                                   Event("bot")]) == new
    assert buttons_awaiting_reply([Event("bot", old), Event("user"), Event("bot")]) == []


def test_a_turn_becomes_few_texts_with_the_options_last():
    turn = [{"text": "That sounds hard \u2014 you\u2019re not alone."},
            {"text": "Want words to use?",
             "buttons": [{"title": "Words to use", "payload": "/request_words"}]}]
    [sms] = compose_turn(turn, TWILIO_MAX_CHARS, sms=True)
    assert sms.endswith("Reply 1 for words to use.") and "\u2019" not in sms and " - " in sms
    [whatsapp] = compose_turn(turn, TWILIO_MAX_CHARS, sms=False)
    assert "\u2019" in whatsapp


def test_gsm_friendly_keeps_emoji_and_plain_text():
    assert gsm_friendly("\u201cHi\u201d \u2026 \U0001F49B") == '"Hi" ... \U0001F49B'


@pytest.mark.parametrize("text,word", [("STOP", "stop"), (" stop. ", "stop"), ("Help", "help"),
                                       ("unsubscribe", "unsubscribe"), ("START", "start"),
                                       ("please stop", None), ("help me", None),
                                       ("I can't stop crying", None), ("", None)])
def test_carrier_keywords_are_whole_messages_only(text, word):
    assert keyword(text) == word


def test_help_and_stop_texts_carry_emergency_numbers_from_the_directory():
    directory = yaml.safe_load(open(content.CONTENT_DIR / "helplines.yml", encoding="utf-8"))
    known = set(re.findall(r"\b\d{3}\b", yaml.safe_dump(directory)))
    texts = content.load("messaging")
    for text in (texts["sms_keywords"]["help"], texts["sms_keywords"]["stop"],
                 texts["telegram_help"]):
        numbers = re.findall(r"\b(?:999|911|112|000|111)\b", text)
        assert numbers and set(numbers) <= known, text


def test_messaging_connectors_start_only_when_their_variables_are_set(tmp_path):
    template = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
    enabled, missing = enabled_channels(template, {})
    assert any("rest" in n.lower() for n in enabled)
    assert not any("telegram" in n or "twilio" in n for n in enabled)
    assert any("telegram" in n for n in missing) and any("twilio" in n for n in missing)
    env = {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_NUMBER": "+1"}
    enabled, missing = enabled_channels(template, env)
    assert any("twilio" in n for n in enabled) and any("telegram" in n for n in missing)
    written = yaml.safe_load(write_credentials(tmp_path / "c.yml", env).read_text())
    twilio = next(v for k, v in written.items() if "twilio" in k)
    assert twilio["auth_token"] == "${TWILIO_AUTH_TOKEN}", "secrets stay out of the file"
