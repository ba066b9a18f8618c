"""Size and rate limits: parts cover the whole message, a crisis anywhere in a long message
is found (real NLU model), the rate limit counts per sender within its window."""

from __future__ import annotations

import asyncio

import pytest

from bot import message_limits
from bot.message_limits import RateLimiter, parts, riskiest_part

PHRASE = "I want to kill myself"


@pytest.mark.parametrize("size", [100, 500, 4000])
def test_parts_are_bounded_and_no_phrase_is_cut_in_two(size):
    filler = "we read a book and had a bath and went to bed early " * 400
    for position in range(0, len(filler), 97):
        message = filler[:position] + PHRASE + filler[position:]
        pieces = parts(message, size)
        assert all(len(p) <= size for p in pieces)
        assert any(PHRASE in p for p in pieces), position
        assert pieces[0] == message[:len(pieces[0])] and message.endswith(pieces[-1])


def test_short_and_unbroken_messages():
    assert parts("hello", 4000) == ["hello"]
    unbroken = "x" * 10_000  # no spaces: cut anyway, still bounded and complete
    pieces = parts(unbroken, 4000)
    assert all(len(p) <= 4000 for p in pieces) and sum(map(len, pieces)) >= 10_000


def test_rate_limit_per_sender_and_window():
    limiter = RateLimiter(limit=3, window=10)
    assert [limiter.allow("a", now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert limiter.allow("b", now=3)  # another parent
    assert limiter.allow("a", now=10.5)  # the first message left the window


def test_limits_texts_are_kind_and_complete():
    texts = message_limits.texts()
    assert set(texts) == {"too_long", "too_fast"}
    assert "most pressing part" in texts["too_long"]
    assert "emergency" in texts["too_fast"]


def test_nul_is_removed_and_everything_else_kept():
    assert message_limits.clean("a\x00b ✨ e\u0301") == "ab ✨ e\u0301"
    assert message_limits.clean(None) is None


def test_crisis_anywhere_in_a_long_message_is_found(agent):
    filler = "We went to the park, then had dinner and a bath, and read two books. " * 150
    for message in (filler + PHRASE + ". " + filler, PHRASE + ". " + filler * 2,
                    filler * 2 + "honestly " + PHRASE):
        found = asyncio.run(riskiest_part(message, 4000, agent.parse_message))
        assert found is not None and PHRASE in found
    assert asyncio.run(riskiest_part(filler * 2, 4000, agent.parse_message)) is None


def test_only_real_button_payloads_keep_their_slash():
    intents, entities = {"affirm", "inform_age"}, {"child_age"}
    keep = ["/affirm", '/inform_age{"child_age": "3"}', " /affirm "]
    for text in keep:
        assert message_limits.plain_unless_payload(text, intents, entities) == text
    changed = {"/secret words": "secret words", "/nope": "nope", "//affirm": "affirm",
               '/inform_age{"name": "x"}': 'inform_age{"name": "x"}',
               "/inform_age{oops": "inform_age{oops", "/affirm@0.3": "affirm@0.3", "/": ""}
    for text, plain in changed.items():
        assert message_limits.plain_unless_payload(text, intents, entities) == plain, text
    assert message_limits.plain_unless_payload("hello /x", intents, entities) == "hello /x"
