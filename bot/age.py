"""Turn what a parent writes about a child's age into months, an age band and a stage.

Bands are the seeds' table (0-6 months ... 4+ years); stages pick the repair-script
wording (a toddler is spoken to differently than a nine-year-old).
"""

from __future__ import annotations

import re

WORD_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "twenty-one": 21, "twenty-four": 24,
    "thirty": 30,
}
WORD_AGES = {
    "newborn": 0.5, "newborns": 0.5, "infant": 4, "toddler": 24,
    "preschooler": 48, "tween": 132, "preteen": 132, "pre-teen": 132,
    "teen": 180, "teenager": 180, "teens": 180,
}
UNIT_MONTHS = {"d": 1 / 30, "w": 12 / 52, "m": 1.0, "y": 12.0}

_NUM = (r"(\d+(?:\.\d+)?|(?:" + "|".join(sorted(WORD_NUMBERS, key=len, reverse=True))
        + r")\b)")
_HALF = r"(\s*(?:and\s+a\s+half|\.5|½))?"
_UNIT = (r"(days?|d|weeks?|wks?|wk|w|months?|mos?|mths?|mo|m|years?|yrs?|yr|yo|y/o|y)"
         r"\b")
_AGE_RE = re.compile(r"\b" + _NUM + _HALF + r"\s*-?\s*" + _UNIT, re.IGNORECASE)
_BARE_RE = re.compile(r"(?:^|\b(?:is|\w+'s|they're|turned|turning|almost|nearly|"
                      r"age|aged|just)\s+)" + _NUM + _HALF + r"\s*[.!]?\s*$",
                      re.IGNORECASE)


def _number(token: str) -> float | None:
    token = token.lower()
    if token in WORD_NUMBERS:
        return float(WORD_NUMBERS[token])
    try:
        return float(token)
    except ValueError:
        return None


def parse_age_months(text: str | None) -> float | None:
    """Return the age in months, or None when the text holds no usable age."""
    if not text:
        return None
    text = text.strip().lower()
    match = _AGE_RE.search(text)
    if match:
        num = _number(match.group(1))
        if num is not None:
            if match.group(2):
                num += 0.5
            unit = match.group(3)[0]
            if unit == "y" or match.group(3) in ("yo", "y/o"):
                unit = "y"
            months = num * UNIT_MONTHS[unit]
            if 0 <= months <= 12 * 25:
                return round(months, 1)
    for word, months in WORD_AGES.items():
        if re.search(rf"\b{re.escape(word)}\b", text):
            return float(months)
    bare = _BARE_RE.search(text)
    if bare:
        num = _number(bare.group(1))
        if num is not None and 0 < num <= 18:
            return (num + (0.5 if bare.group(2) else 0)) * 12.0
    return None


def band_for(months: float | None) -> str | None:
    """The seeds' age band for an age in months."""
    if months is None:
        return None
    if months < 6:
        return "0-6 months"
    if months < 12:
        return "6-12 months"
    if months < 24:
        return "1-2 years"
    if months < 48:
        return "2-4 years"
    return "4+ years"


def stage_for(months: float | None) -> str:
    """Which repair-script wording fits: baby, toddler, preschool, school, teen."""
    if months is None:
        return "unknown"
    if months < 12:
        return "baby"
    if months < 36:
        return "toddler"
    if months < 72:
        return "preschool"
    if months < 144:
        return "school"
    return "teen"
