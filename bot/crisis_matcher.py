"""Deterministic danger-phrase detection on a spaCy Doc (lemmas and lower-case forms).

The patterns are data (``bot/safety/crisis_patterns.yml``) so a clinical reviewer can
read them; this module only compiles and applies them. Used by the NLU safety net and
by the tests that check every pattern's examples and idioms.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from bot.crisis_pattern_file import PATTERNS_PATH, load_pattern_file

CRISIS_GROUPS = ("crisis_danger", "crisis_harm_child", "crisis_self_harm")
POSSIBLE = "possible_risk"
GROUPS = CRISIS_GROUPS + (POSSIBLE,)
# When two matches are equally long, the more urgent response wins.
_RANK = {name: i for i, name in enumerate(GROUPS)}


@dataclass(frozen=True)
class CrisisMatch:
    """One danger phrase found in a message."""

    group: str  # crisis_danger | crisis_harm_child | crisis_self_harm | possible_risk
    pattern_id: str
    start: int
    end: int
    text: str

    @property
    def is_crisis(self) -> bool:
        return self.group in CRISIS_GROUPS


def _expand(value: Any, sets: dict[str, list[str]]) -> Any:
    """Replace "$name" references to a set (in IN lists) by the set's words."""
    if isinstance(value, str) and value.startswith("$"):
        return [str(v) for v in sets[value[1:]]]
    if isinstance(value, dict):
        return {k: _expand(v, sets) for k, v in value.items()}
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            expanded = _expand(item, sets)
            if isinstance(item, str) and item.startswith("$"):
                out.extend(expanded)
            else:
                out.append(expanded)
        return out
    return value


class CrisisMatcher:
    """Compiled crisis patterns for one spaCy pipeline's vocabulary."""

    def __init__(self, nlp: Language, path: Path = PATTERNS_PATH) -> None:
        self.nlp = nlp
        data = load_pattern_file(str(path))
        sets = {k: [str(w) for w in v] for k, v in data.get("sets", {}).items()}
        self.matcher = Matcher(nlp.vocab, validate=True)
        self.near: list[tuple[str, str, int, bool, list[PhraseMatcher]]] = []
        self.entries: dict[str, dict[str, Any]] = {}
        self.idioms = Matcher(nlp.vocab, validate=True)
        self._idiom_stops: dict[str, list[str]] = {}
        for entry in data.get("idioms", []):
            self.idioms.add(entry["id"], [_expand(p, sets) for p in entry["patterns"]])
            self._idiom_stops[entry["id"]] = self._stop_phrases(entry, sets)
        for group in GROUPS:
            for entry in data.get(group, []):
                key = f"{group}:{entry['id']}"
                self.entries[key] = entry
                entry["_stop"] = self._stop_phrases(entry, sets)
                entry["_before"] = [self._norm(s) for s in entry.get("not_preceded_by", [])]
                entry["_before_window"] = int(entry.get("before_window", 4))
                if entry.get("patterns"):
                    pats = [_expand(p, sets) for p in entry["patterns"]]
                    self.matcher.add(key, pats)
                if entry.get("near"):
                    phrase_matchers = []
                    for words in entry["near"]["groups"]:
                        pm = PhraseMatcher(nlp.vocab, attr="LOWER")
                        pm.add("g", [nlp.make_doc(str(w).lower()) for w in words])
                        phrase_matchers.append(pm)
                    any_order = str(entry["near"].get("order", "forward")) == "any"
                    self.near.append((group, entry["id"], int(entry["near"]["window"]),
                                      any_order, phrase_matchers))

    def _norm(self, text: str) -> str:
        return " ".join(t.lower_ for t in self.nlp.make_doc(text.lower()))

    def _stop_phrases(self, entry: dict[str, Any], sets: dict[str, list[str]]) -> list[str]:
        """An entry's not_followed_by (a list or a "$set") and not_followed_by_extra,
        tokenised as messages are; danger entries and idioms read them alike."""
        stop = _expand(entry.get("not_followed_by") or [], sets)
        stop = list(stop) + [str(s) for s in entry.get("not_followed_by_extra", [])]
        return [self._norm(str(s)) for s in stop]

    @staticmethod
    def _followed_by(doc: Doc, end: int, phrases: list[str]) -> bool:
        """True when the words right after token `end` begin with one of the phrases."""
        following = " ".join(t.lower_ for t in doc[end:end + 8])
        return any(following == s or following.startswith(s + " ") for s in phrases)

    def _idiom(self, key: str, doc: Doc, end: int, start: int | None = None) -> bool:
        """True when the words right after (or, for some entries, right before) the hit
        make it an idiom or a worry rather than a danger."""
        entry = self.entries[key]
        if self._followed_by(doc, end, entry["_stop"]):
            return True
        if start is not None and entry["_before"]:
            window = entry["_before_window"]
            before = " " + " ".join(t.lower_ for t in doc[max(0, start - window):start]) + " "
            return any(f" {s} " in before for s in entry["_before"])
        return False

    def find_all(self, doc: Doc) -> list[CrisisMatch]:
        """Every pattern hit in the doc, idioms filtered out."""
        found: list[CrisisMatch] = []
        raw = [(self.nlp.vocab.strings[mid], start, end) for mid, start, end in self.matcher(doc)]
        # Optional tokens give several variants of one hit; if any variant is followed
        # by an idiom ("disappear for a weekend"), the whole hit is an idiom.
        idioms = {(key, start) for key, start, end in raw if self._idiom(key, doc, end, start)}
        for key, start, end in raw:
            if (key, start) in idioms:
                continue
            group, pattern_id = key.split(":", 1)
            found.append(CrisisMatch(group, pattern_id, start, end, doc[start:end].text))
        for group, pattern_id, window, any_order, matchers in self.near:
            key = f"{group}:{pattern_id}"
            hits = [[(s, e) for _, s, e in pm(doc)] for pm in matchers]
            if not all(hits):
                continue
            for s1, e1 in hits[0]:
                # The second group comes after the first, or (order: any) on either side.
                close = [(s2, e2) for s2, e2 in hits[1]
                         if (0 <= s2 - s1 <= window or (any_order and 0 < s1 - s2 <= window))
                         and not self._idiom(key, doc, max(e1, e2), s2)]
                if close:
                    s2, e2 = close[0]
                    start, end = min(s1, s2), max(e1, e2)
                    found.append(CrisisMatch(group, pattern_id, start, end,
                                             doc[start:end].text))
                    break
        return found

    def idiom(self, doc: Doc) -> str | None:
        """The id of an everyday idiom with a danger word in the doc ("death of me")."""
        for match_id, _, end in self.idioms(doc):
            name = self.nlp.vocab.strings[match_id]
            # "slammed the door on her fingers" is no idiom
            if not self._followed_by(doc, end, self._idiom_stops[name]):
                return name
        return None

    def best(self, doc: Doc) -> CrisisMatch | None:
        """The match that decides the intent: any crisis beats possible risk, then the
        longest span, then the most urgent group."""
        found = self.find_all(doc)
        if not found:
            return None
        return min(found, key=lambda m: (not m.is_crisis, -(m.end - m.start),
                                         _RANK[m.group]))
