"""Delete-my-data is recognised in phrasings not in the training data, and look-alikes
about forgetting or deleting other things are not taken for it (tests/eval/privacy_holdout.yml)."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.evaluate import parse_all

HOLDOUT = yaml.safe_load((Path(__file__).parent / "eval" / "privacy_holdout.yml")
                         .read_text(encoding="utf-8"))


def test_delete_requests_are_recognised(agent):
    requests = HOLDOUT["delete_my_data"]
    found = [r["intent"]["name"] for r in parse_all(agent, requests)]
    missed = [t for t, name in zip(requests, found) if name != "delete_my_data"]
    assert len(missed) <= 2, missed  # >= 90 % of 20


def test_look_alikes_are_not_delete_requests(agent):
    texts = HOLDOUT["not_delete"]
    found = [r["intent"]["name"] for r in parse_all(agent, texts)]
    wrong = [t for t, name in zip(texts, found) if name == "delete_my_data"]
    assert len(wrong) <= 1, wrong
