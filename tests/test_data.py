"""Training data: enough examples per intent, valid for Rasa, and no evaluation message in it."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml

from bot.nlu_data import normalise, read_dir, read_examples

ROOT = Path(__file__).resolve().parent.parent
TRAIN = read_dir(ROOT / "data" / "nlu")
EVAL = read_examples(ROOT / "tests" / "eval" / "nlu_holdout.yml") + \
    read_examples(ROOT / "tests" / "eval" / "crisis_set.yml") + \
    [pair for pattern in ("crisis_blind*.yml", "nlu_blind*.yml")
     for path in sorted((ROOT / "tests" / "eval").glob(pattern))
     for pair in read_examples(path)] + \
    [(t, k) for k, texts in yaml.safe_load(
        (ROOT / "tests" / "eval" / "crisis_dev.yml").read_text(encoding="utf-8")).items()
     for t in texts]
TAXONOMY = [
    "concern_yelling", "concern_working_parent", "concern_bonding", "concern_postpartum_mood",
    "concern_too_late", "concern_own_childhood", "concern_tantrums", "concern_separation",
    "concern_multiple_caregivers", "concern_spoiling", "concern_parent_guilt",
    "ask_attachment_signs", "ask_build_attachment", "ask_attachment_styles",
    "ask_professional_help", "crisis_self_harm", "crisis_harm_child", "crisis_danger",
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "request_human",
    "out_of_scope",
]
CRISIS = ["crisis_self_harm", "crisis_harm_child", "crisis_danger"]


def test_every_intent_has_enough_examples():
    counts = Counter(intent for _, intent in TRAIN)
    for intent in TAXONOMY:
        assert counts[intent] >= 30, f"{intent}: only {counts[intent]} examples"
    for intent in CRISIS:
        assert counts[intent] >= 60, f"{intent}: only {counts[intent]} examples"


def test_no_example_is_filed_under_two_intents():
    seen: dict[str, str] = {}
    clashes = []
    for text, intent in TRAIN:
        key = normalise(text)
        if key in seen and seen[key] != intent:
            clashes.append((text, seen[key], intent))
        seen[key] = intent
    assert not clashes, clashes[:10]


def test_evaluation_data_is_kept_out_of_training():
    train = {normalise(t) for t, _ in TRAIN}
    leaked = [t for t, _ in EVAL if normalise(t) in train]
    assert not leaked, leaked[:10]


def test_crisis_set_is_big_enough():
    crisis = read_examples(ROOT / "tests" / "eval" / "crisis_set.yml")
    positives = [t for t, i in crisis if i in CRISIS]
    assert len(positives) >= 90 and len(crisis) - len(positives) >= 60
    assert len(crisis) >= 150


def test_rasa_data_validate_is_clean():
    rasa = Path(sys.executable).parent / "rasa"
    result = subprocess.run(
        [str(rasa), "data", "validate", "--config", "config.yml", "--domain", "domain",
         "--data", "data", "--fail-on-warnings"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
