"""Advice content (YAML a clinician reviews in one place), loaded once per process."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CONTENT_DIR = Path(__file__).resolve().parent / "content"


@lru_cache(maxsize=16)
def load(name: str) -> dict[str, Any]:
    """One content file by stem: concerns, repair, by_age, helplines, crisis_messages."""
    with open(CONTENT_DIR / f"{name}.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def concern(intent: str) -> dict[str, Any] | None:
    return (load("concerns").get("concerns") or {}).get(intent)


def pick(options: list[str], key: str) -> str:
    """A stable choice among variants: the same conversation hears the same wording."""
    if not options:
        return ""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return options[digest[0] % len(options)]


def fill(text: str, **values: str) -> str:
    """Fill {name}-style placeholders, leaving unknown ones untouched."""
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text
