"""Build the project's own blank English spaCy pipeline.

No spaCy 3.4 English model can be downloaded on these machines, so the project builds
one itself: a blank English tokenizer, the lookup lemmatizer from spacy-lookups-data
(lemmas feed Rasa's CountVectorsFeaturizer) and an entity ruler that finds child ages
("my 18-month-old", "a 3yo", "newborn", "6 weeks old") and names after kinship words.
Run: ``python -m bot.spacy_pipeline [output_dir]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import spacy
from spacy.language import Language

DEFAULT_PATH = Path(".spacy/en_parenting")

NUMBER_WORDS = [
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "a", "an",
]
UNITS = ["day", "days", "week", "weeks", "wk", "wks", "month", "months", "mo", "mos",
         "mth", "mths", "year", "years", "yr", "yrs"]
WORD_AGES = ["newborn", "newborns", "toddler", "preschooler", "teen",
             "teenager", "tween", "preteen", "pre-teen"]
KIN = ["son", "daughter", "boy", "girl", "kid", "child", "baby", "toddler", "dd", "ds",
       "lo", "stepson", "stepdaughter", "grandson", "granddaughter"]

_NUM = {"LIKE_NUM": True}
_NUMWORD = {"LOWER": {"IN": NUMBER_WORDS}}
_UNIT = {"LOWER": {"IN": UNITS}}
_HYPH = {"TEXT": "-"}


def age_patterns() -> list[dict]:
    """Token patterns for child ages; all labelled ``child_age``."""
    pats: list[list[dict]] = []
    for num in (_NUM, _NUMWORD):
        # "18 months", "18 months old", "3 year old", "six weeks old", "2 and a half years"
        pats.append([num, _UNIT, {"LOWER": "old", "OP": "?"}])
        pats.append([num, {"LOWER": "and"}, {"LOWER": "a"}, {"LOWER": "half"}, _UNIT,
                     {"LOWER": "old", "OP": "?"}])
        # "18-month-old", "3-year-old"
        pats.append([num, _HYPH, _UNIT, _HYPH, {"LOWER": "old"}])
        pats.append([num, _HYPH, _UNIT])
    # "3yo", "3yr", "18mo" tokenised as one token, or "3 yo"
    pats.append([{"TEXT": {"REGEX": r"(?i)^\d{1,2}(yo|y/o|yrs?|mos?|mths?|wks?|m|y)$"}}])
    pats.append([_NUM, {"LOWER": {"IN": ["yo", "y/o", "y.o", "y.o."]}}])
    # "just turned 3", "turned three", "is turning 4"
    pats.append([{"LOWER": {"IN": ["turned", "turning", "turns"]}}, {"LIKE_NUM": True}])
    pats.append([{"LOWER": {"IN": ["turned", "turning", "turns"]}}, _NUMWORD])
    # "almost 2", "nearly 5"
    pats.append([{"LOWER": {"IN": ["almost", "nearly"]}}, _NUM])
    pats.append([{"LOWER": {"IN": WORD_AGES}}])
    # "she is 4", "my son's 7", "he just turned 3 months": a number after a child word
    pats.append([{"LOWER": {"IN": ["she", "he", "they"] + KIN}},
                 {"LOWER": {"IN": ["is", "'s", "s", "are", "'re", "just", "turned", "turns"]},
                  "OP": "+"},
                 _NUM, {"LOWER": {"IN": UNITS}, "OP": "?"}, {"LOWER": "old", "OP": "?"}])
    return [{"label": "child_age", "pattern": p} for p in pats]


def name_patterns() -> list[dict]:
    """"my son Leo" / "my daughter, Maya": the capitalised token after a kinship word."""
    pat = [{"LOWER": {"IN": ["my", "our"]}}, {"LOWER": {"IN": KIN}},
           {"TEXT": ",", "OP": "?"},
           {"IS_TITLE": True, "IS_ALPHA": True, "LENGTH": {">=": 2}}]
    return [{"label": "child_name", "pattern": pat, "id": "kin_name"}]


def build(path: Path = DEFAULT_PATH) -> Language:
    """Create, initialise and save the pipeline; returns it for tests."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe("entity_ruler", config={"overwrite_ents": True})
    nlp.initialize()  # loads lookup tables from spacy-lookups-data
    # after initialize(), which would clear them
    ruler.add_patterns(age_patterns() + name_patterns())
    path.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(path)
    return nlp


def main(argv: list[str]) -> None:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT_PATH
    build(path)
    print(f"spaCy pipeline written to {path}")


if __name__ == "__main__":
    main(sys.argv)
