"""Read Rasa NLU YAML files into (text, intent) pairs, entity markup removed.

Used by the evaluation and by the tests that keep evaluation data out of training.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

_ENTITY = re.compile(r"\[([^\]]+)\]\([^)]+\)|\[([^\]]+)\]\{[^}]+\}")


def plain(text: str) -> str:
    """An example's text without entity markup."""
    return _ENTITY.sub(lambda m: m.group(1) or m.group(2), text).strip()


def normalise(text: str) -> str:
    """Lower-case, punctuation-free form used to spot the same message twice."""
    return " ".join(re.sub(r"[^\w\s]", " ", plain(text).lower()).split())


def read_examples(path: Path) -> list[tuple[str, str]]:
    """All (text, intent) pairs of one NLU file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    pairs = []
    for block in data.get("nlu", []) or []:
        if "intent" not in block:
            continue
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                pairs.append((plain(line[2:]), block["intent"]))
    return pairs


def read_dir(folder: Path) -> list[tuple[str, str]]:
    """Examples of every NLU file under a folder."""
    pairs: list[tuple[str, str]] = []
    for path in sorted(folder.rglob("*.yml")):
        pairs.extend(read_examples(path))
    return pairs
