"""Shaping the assistant's replies for messaging apps: numbered options instead of buttons,
long answers split under each platform's size limit at sentence ends, and SMS text kept to
the plain GSM alphabet so one message does not cost three times as many segments.

Pure functions, so every rule here is tested without a network.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Twilio refuses bodies over 1,600 characters (SMS is sent as concatenated segments that
# phones join; WhatsApp through Twilio has the same limit). Telegram: 4,096 per message.
TWILIO_MAX_CHARS = 1600
TELEGRAM_MAX_CHARS = 4096

# Where a long text may be cut: paragraph breaks, line breaks, then sentence ends.
_SENTENCE_END = re.compile(r"(?<=[.!?\u2026])[\"'\u201d\u2019)]*\s+")
_WORDS = re.compile(r"\s+")

# Typographic characters outside the GSM 03.38 alphabet: one of them turns a whole SMS into
# UCS-2, which fits 70 characters per segment instead of 160.
_GSM_FRIENDLY = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
    "\u2014": "-", "\u2026": "...", "\u00a0": " ", "\u2022": "-", "\u2011": "-",
})


def _pieces(text: str, splitter: re.Pattern[str]) -> list[str]:
    return [p for p in splitter.split(text) if p.strip()]


def split_message(text: str, limit: int) -> list[str]:
    """Cut ``text`` into parts of at most ``limit`` characters, keeping paragraphs together
    where they fit and never cutting inside a sentence unless one sentence alone is longer
    than the limit (then it is cut between words, and only a word longer than the limit
    is cut inside)."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    parts: list[str] = []
    current = ""

    def add(unit: str, joiner: str) -> None:
        nonlocal current
        if not current:
            current = unit
        elif len(current) + len(joiner) + len(unit) <= limit:
            current = current + joiner + unit
        else:
            parts.append(current)
            current = unit

    for paragraph in _pieces(text, re.compile(r"\n\s*\n")):
        paragraph = paragraph.strip()
        if len(paragraph) <= limit:
            add(paragraph, "\n\n")
            continue
        for line in _pieces(paragraph, re.compile(r"\n")):
            line = line.strip()
            if len(line) <= limit:
                add(line, "\n")
                continue
            for sentence in _pieces(line, _SENTENCE_END):
                sentence = sentence.strip()
                if len(sentence) <= limit:
                    add(sentence, " ")
                    continue
                for word in _pieces(sentence, _WORDS):
                    while len(word) > limit:
                        add(word[:limit], " ")
                        word = word[limit:]
                    add(word, " ")
    if current:
        parts.append(current)
    return parts


def gsm_friendly(text: str) -> str:
    """Curly quotes, dashes and ellipses as their plain forms (emoji are left alone)."""
    return text.translate(_GSM_FRIENDLY)


def _option_title(title: str) -> str:
    """'Words to use' -> 'words to use'; 'I yelled...' and 'OK' keep their capitals."""
    first = title.split(" ", 1)[0]
    if first == "I" or first.startswith("I'") or first.isupper():
        return title
    return title[:1].lower() + title[1:]


def numbered_options(buttons: Iterable[dict]) -> str:
    """The choices a button row offers, as a line an SMS reader can answer with a digit."""
    titles = [str(b.get("title") or b.get("payload") or "").strip() for b in buttons]
    titles = [t for t in titles if t]
    if not titles:
        return ""
    if len(titles) <= 3 and all(len(t) <= 30 for t in titles):
        options = ", ".join(f"{i} for {_option_title(t)}" for i, t in enumerate(titles, 1))
        return f"Reply {options}."
    lines = "\n".join(f"{i}. {t}" for i, t in enumerate(titles, 1))
    return f"Reply with a number:\n{lines}"


_CHOICE = re.compile(r"^\s*(?:#|no\.?\s*|number\s+|option\s+)?(\d{1,2})\s*[.)!]?\s*$", re.I)


def chosen_payload(reply: str, buttons: list[dict]) -> str | None:
    """The payload a reply like '1', ' 2.', '#3' or 'option 1' picks, if it picks one."""
    match = _CHOICE.match(reply or "")
    if not match or not buttons:
        return None
    index = int(match.group(1))
    if 1 <= index <= len(buttons):
        return str(buttons[index - 1].get("payload") or buttons[index - 1].get("title"))
    return None


def compose_turn(messages: list[dict], limit: int, sms: bool) -> list[str]:
    """One turn's replies (as Rasa's CollectingOutputChannel gathered them) as the fewest
    texts under ``limit``: paragraphs joined, the last button row as numbered options."""
    paragraphs: list[str] = []
    last_buttons: list[dict] = []
    for message in messages:
        if message.get("text"):
            paragraphs.append(str(message["text"]).strip())
        if message.get("buttons"):
            last_buttons = list(message["buttons"])
        if message.get("image"):
            paragraphs.append(str(message["image"]))
    if last_buttons:
        paragraphs.append(numbered_options(last_buttons))
    text = "\n\n".join(p for p in paragraphs if p)
    if sms:
        text = gsm_friendly(text)
    return split_message(text, limit)
