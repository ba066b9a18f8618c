"""Shared fixtures: the project's spaCy pipeline and the trained model."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPACY_MODEL = ROOT / ".spacy" / "en_parenting"
MODEL = ROOT / "models" / "parenting.tar.gz"


@pytest.fixture(scope="session")
def nlp():
    import spacy

    if not SPACY_MODEL.exists():
        from bot.spacy_pipeline import build

        build(SPACY_MODEL)
    return spacy.load(SPACY_MODEL)


@pytest.fixture(scope="session")
def agent():
    assert MODEL.exists(), "no trained model: run `make train` (make test does it)"
    from bot.evaluate import load_agent

    return load_agent(MODEL)
