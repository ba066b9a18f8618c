"""Limits on what one parent can send: size and rate, answered kindly, never silently.

Both limits give way to danger: an over-long or too-fast message is first read by the NLU
(an over-long one in overlapping parts, so nothing is cut away unread) and if any part is a
crisis, or a possible one, that part goes on to the assistant as the message. The kind
texts are in actions/content/limits.yml.
"""

from __future__ import annotations

import json
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

import yaml

from bot.settings import ROOT

CRISIS_INTENTS = ("crisis_self_harm", "crisis_harm_child", "crisis_danger")
RISK_INTENTS = (*CRISIS_INTENTS, "possible_crisis")
OVERLAP = 300  # characters shared by neighbouring parts, so no phrase is cut in two


@lru_cache(maxsize=1)
def texts() -> dict[str, str]:
    with open(ROOT / "actions" / "content" / "limits.yml", encoding="utf-8") as handle:
        return {k: " ".join(str(v).split()) for k, v in yaml.safe_load(handle).items()}


def clean(text: str | None) -> str | None:
    """NUL characters cannot be stored in PostgreSQL text and mean nothing to a reader."""
    return text.replace("\x00", "") if text else text


PAYLOAD = re.compile(r"^/(?P<intent>[A-Za-z_][\w-]*)(?P<entities>\{.*\})?$", re.DOTALL)


def plain_unless_payload(text: str | None, intents: set[str], entities: set[str]) -> str | None:
    """Leave a button payload (``/affirm``, ``/inform_age{"child_age": "3"}``) alone; any other
    text starting with ``/`` loses the slash(es). Rasa would otherwise warn about the "bad
    payload" in its log, quoting the parent's words, and then read it as text anyway."""
    if not text or not text.lstrip().startswith("/"):
        return text
    match = PAYLOAD.match(text.strip())
    if match and match.group("intent") in intents:
        found = match.group("entities")
        if found is None:
            return text
        try:
            values = json.loads(found)
        except ValueError:
            values = None
        if isinstance(values, dict) and set(values) <= entities:
            return text
    return text.lstrip().lstrip("/").lstrip()


def parts(text: str, size: int, overlap: int = OVERLAP) -> list[str]:
    """Overlapping pieces of at most ``size`` characters, cut at whitespace when possible."""
    if len(text) <= size:
        return [text]
    overlap = min(overlap, size // 2)
    pieces, start = [], 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = text.rfind(" ", start + size // 2, end)
            end = cut if cut > start else end
        pieces.append(text[start:end])
        if end >= len(text):
            break
        start = max(end - overlap, start + 1)
    return pieces


async def riskiest_part(text: str, size: int,
                        parse: Callable[[str], Awaitable[dict[str, Any]]]) -> str | None:
    """The part of ``text`` the NLU reads as a crisis (else a possible crisis), or None."""
    possible = None
    for piece in parts(text, size):
        intent = ((await parse(piece)).get("intent") or {}).get("name")
        if intent in CRISIS_INTENTS:
            return piece
        if intent == "possible_crisis" and possible is None:
            possible = piece
    return possible


class RateLimiter:
    """At most ``limit`` messages per sender in any ``window`` seconds (this process).

    With several Rasa processes behind a load balancer each counts its own share, so the
    effective limit is up to N times higher: a guard against floods, not an exact quota.
    """

    def __init__(self, limit: int, window: float, max_senders: int = 50_000) -> None:
        self.limit, self.window, self.max_senders = limit, window, max_senders
        self.seen: dict[str, deque[float]] = {}

    def allow(self, sender: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        times = self.seen.setdefault(sender, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        if len(self.seen) > self.max_senders:
            self._forget_idle(now)
        return True

    def _forget_idle(self, now: float) -> None:
        for sender in [s for s, t in self.seen.items() if not t or now - t[-1] >= self.window]:
            del self.seen[sender]
