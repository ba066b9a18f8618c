"""The helpline directory (``actions/content/helplines.yml``): countries, lines by need.

Numbers are data a deployment reviews; this module only looks them up. Used by the
crisis follow-up action and by the generator of the static crisis responses.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from bot.settings import ROOT

DIRECTORY_PATH = ROOT / "actions" / "content" / "helplines.yml"
NEEDS = ("self_harm", "harm_child", "abuse", "perinatal")


@dataclass(frozen=True)
class Line:
    """One helpline: who, how to reach them, and the digits for a tel: link."""

    name: str
    how: str
    tel: str | None = None

    def as_text(self) -> str:
        return f"{self.name}: {self.how}"


@lru_cache(maxsize=2)
def load_directory(path: str = str(DIRECTORY_PATH)) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def countries() -> dict[str, dict[str, Any]]:
    return load_directory()["countries"]


def canonical_country(value: str | None) -> str | None:
    """'england', 'usa', 'Aotearoa' -> 'UK', 'US', 'New Zealand'; None if unknown."""
    if not value:
        return None
    wanted = " ".join(str(value).lower().replace(".", "").split())
    for name, entry in countries().items():
        names = {name.lower(), *(str(n).lower() for n in entry.get("names", []))}
        if wanted in names:
            return name
    return None


def emergency_number(country: str | None) -> str | None:
    entry = countries().get(country or "")
    return str(entry["emergency"]) if entry else None


def lines(country: str | None, need: str) -> list[Line]:
    """Helplines of one kind for a known country (empty list when there are none)."""
    entry = countries().get(country or "")
    if not entry:
        return []
    return [Line(str(x["name"]), str(x["how"]), str(x.get("tel")) if x.get("tel") else None)
            for x in entry.get(need) or []]


def directory_site() -> tuple[str, str]:
    site = load_directory().get("directory") or {}
    return str(site.get("name", "Find A Helpline")), str(site.get("url",
                                                                   "https://findahelpline.com"))
