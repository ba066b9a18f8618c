"""Advice content: every entry names the seed it comes from, bubbles fit a phone, and the
generated crisis responses match the helpline directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions import content
from bot import crisis_responses, helplines

ROOT = Path(__file__).resolve().parent.parent
SEED_NAMES = {"000_a5ea30109349d0a4.txt", "001_02e3bbaccb4b3583.txt",
              "002_aecb69e3211df389.txt", "003_5c780c6cccb81c11.txt"}
CONCERN_INTENTS = ["concern_yelling", "concern_working_parent", "concern_bonding",
                   "concern_postpartum_mood", "concern_too_late", "concern_own_childhood",
                   "concern_tantrums", "concern_separation", "concern_multiple_caregivers",
                   "concern_spoiling", "concern_parent_guilt", "ask_attachment_styles",
                   "ask_professional_help"]


def strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            if key != "source":
                yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def sources(node):
    if isinstance(node, dict):
        if "source" in node:
            src = node["source"]
            yield from ([src] if isinstance(src, str) else src)
        for value in node.values():
            yield from sources(value)
    elif isinstance(node, list):
        for item in node:
            yield from sources(item)


@pytest.mark.parametrize("name", ["concerns", "repair", "by_age"])
def test_advice_names_real_seed_files(name):
    found = list(sources(content.load(name)))
    assert found, f"{name}.yml has no source fields"
    assert set(found) <= SEED_NAMES, set(found) - SEED_NAMES


def test_every_concern_entry_is_sourced_and_complete():
    concerns = content.load("concerns")["concerns"]
    for intent in CONCERN_INTENTS:
        entry = concerns[intent]
        assert entry["source"] and entry["validate"] and entry["facts"] and entry["try"]
        assert entry["open_door"] and entry["words"] and entry["more"]


@pytest.mark.parametrize("name", ["concerns", "repair", "by_age", "conversation"])
def test_bubbles_fit_a_phone(name):
    long = [s for s in strings(content.load(name)) if len(s) > 300]
    assert not long, long[:3]


def test_crisis_messages_fit_one_screen():
    # A static crisis response is one message so that it arrives whole and first.
    for variations in crisis_responses.render()["responses"].values():
        for variation in variations:
            assert len(variation["text"]) <= 450, variation["text"]


def test_by_age_covers_the_seed_bands():
    bands = content.load("by_age")["bands"]
    assert set(bands) == {"0-6 months", "6-12 months", "1-2 years", "2-4 years", "4+ years"}
    for band in bands.values():
        assert band["signs"] and band["build"] and band["source"]


def test_repair_scripts_for_every_stage_use_the_name():
    stages = content.load("repair")["stages"]
    for stage in ("baby", "toddler", "preschool", "school", "teen", "unknown"):
        assert any("{name}" in line for line in stages[stage]["script"]), stage


def test_helpline_directory_has_reviewed_date_and_emergency_numbers():
    directory = helplines.load_directory()
    assert directory["last_reviewed"]
    expected = {"UK": "999", "US": "911", "Canada": "911", "Australia": "000",
                "New Zealand": "111"}
    for country, number in expected.items():
        assert helplines.emergency_number(country) == number
    assert helplines.lines("UK", "self_harm")[0].tel
    assert helplines.canonical_country("England") == "UK"


def test_generated_crisis_responses_are_up_to_date():
    assert crisis_responses.main(check=True) == 0


def test_danger_response_starts_with_the_emergency_number():
    responses = crisis_responses.render()["responses"]
    for variation in responses["utter_crisis_danger"]:
        if "condition" in variation:
            country = variation["condition"][0]["value"]
            number = helplines.emergency_number(country)
            assert variation["text"].startswith(f"Call {number} now"), variation["text"]
        else:
            assert variation["text"].startswith("Call your local emergency number now")
