"""The web chat channel's text handling (no servers): bubbles, escaping, links, origins."""

from __future__ import annotations

import re

from bot.channels.socketio import (
    escape_markdown,
    phone_numbers,
    same_origin_or_listed,
    split_bubbles,
    to_widget_markdown,
)
from bot.helplines import NEEDS, countries

LONG = ("I'm really glad you told me, and I'm taking it seriously. If you might act on these "
        "thoughts or you're not safe right now, call your local emergency number now (999 in "
        "the UK, 911 in the US and Canada, 112 or 999 in Ireland, 000 in Australia, 111 in New "
        "Zealand). Find A Helpline (https://findahelpline.com) lists free crisis lines in every "
        "country. Which country are you in? I'll give you the right number.")


def test_long_text_becomes_short_bubbles_without_losing_words():
    bubbles = split_bubbles(LONG)
    assert len(bubbles) >= 3 and all(len(b) <= 240 for b in bubbles)
    assert " ".join(bubbles).split() == LONG.split()


def test_paragraphs_are_bubbles_and_short_text_stays_whole():
    assert split_bubbles("One.\n\nTwo.") == ["One.", "Two."]
    assert split_bubbles("Short and sweet. Still one.") == ["Short and sweet. Still one."]
    assert split_bubbles("  \n\n ") == []


def test_every_directory_number_becomes_a_tel_link():
    for entry in countries().values():
        for need in NEEDS:
            for line in entry.get(need) or []:
                if line.get("tel"):
                    rendered = to_widget_markdown(f"{line['name']}: {line['how']}")
                    assert f"(tel:{line['tel']})" in rendered, rendered
    assert to_widget_markdown("call 999 now") == r"call [999](tel:999) now"
    assert "18004224453" in phone_numbers().values()


def test_numbers_inside_other_numbers_are_left_alone():
    assert "tel:" not in to_widget_markdown("about 30% of the time, 1999, 9111, 999-1")


def test_html_and_markdown_from_text_are_escaped():
    rendered = to_widget_markdown("<img src=x onerror=alert(1)> [a](javascript:alert(1)) *b*")
    assert "<" not in rendered and "](javascript" not in rendered
    assert rendered.startswith("&lt;img")
    assert escape_markdown("1. *x* & y") == r"1\. \*x\* &amp; y"


def test_web_addresses_are_links_without_escapes_inside():
    rendered = to_widget_markdown("Find A Helpline (https://findahelpline.com) lists lines.")
    assert "(https://findahelpline.com)" in rendered
    assert re.search(r"\[https://findahelpline\\\.com\]", rendered)


def test_origins_same_site_or_listed_only():
    environ = {"wsgi.url_scheme": "http", "HTTP_HOST": "127.0.0.1:5005"}
    check = same_origin_or_listed(("https://parents.example",))
    assert check("http://127.0.0.1:5005", environ)
    assert check("https://parents.example", environ)
    assert not check("https://evil.example", environ)
    assert not same_origin_or_listed(())("https://parents.example", environ)


def test_lines_stay_lines():
    text = "In an emergency call 999.\n• Samaritans: call 116 123\n• Shout: text SHOUT to 85258"
    assert split_bubbles(text) == [text]
    rendered = to_widget_markdown(text)
    assert rendered.count("  \n") == 2 and "[116 123](tel:116123)" in rendered
    long = "\n".join(f"• Line number {i} with a helpline name and a way to reach it"
                     for i in range(8))
    bubbles = split_bubbles(long)
    assert len(bubbles) > 1 and all(len(b) <= 240 for b in bubbles)
    assert "\n".join(bubbles) == long
