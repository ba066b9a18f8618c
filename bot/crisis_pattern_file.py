"""Read the reviewed danger-pattern file (bot/safety/crisis_patterns.yml).

Kept apart from bot/crisis_matcher.py, which needs spaCy: the action server only reads
the file (for the pattern's response line), and importing spaCy there also imports
TensorFlow through thinc, about 600 MB of memory for nothing.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PATTERNS_PATH = Path(__file__).resolve().parent / "safety" / "crisis_patterns.yml"


class _WordLoader(yaml.SafeLoader):
    """A YAML loader that keeps on/off/yes/no as words (YAML 1.1 makes them booleans)."""


_WordLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@lru_cache(maxsize=4)
def load_pattern_file(path: str = str(PATTERNS_PATH)) -> dict[str, Any]:
    """The parsed pattern file (cached: it is read once per process)."""
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_WordLoader)  # noqa: S506 - safe subclass
