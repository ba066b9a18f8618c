"""Fuzzing the input paths with hypothesis: the NLU parse (in-process, the trained model)
and the REST webhook's request check never crash, whatever text or JSON arrives.
The same over HTTP against the real server is in tests/test_access.py."""

from __future__ import annotations

import asyncio
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sanic import Sanic
from sanic.compat import Header
from sanic.request import Request

from bot.channels.rest import checked_body
from bot.message_limits import parts

TEXT = st.text(st.characters(codec="utf-8"), max_size=400) | st.sampled_from([
    "", " ", "\n\t", "/", "/greet", '/inform_age{"child_age": "3"}', "/nope{", "{}",
    "I want to kill myself 🙈", "ابني", "<script>alert(1)</script>", "\x00\x01\x7f",
])
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                    | st.text(max_size=30),
                    lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(st.text(max_size=10), children, max_size=4),
                    max_leaves=10)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=TEXT)
def test_nlu_parse_never_crashes(agent, text):
    intents = set(agent.domain.intents)
    result = asyncio.run(agent.parse_message(text))
    name = (result.get("intent") or {}).get("name")
    assert name is None or name in intents or name == "nlu_fallback" or text.startswith("/")
    for piece in parts(text, 100):
        assert len(piece) <= 100


APP = Sanic("fuzz_rest_check")


def _request(body: bytes, content_type: str) -> Request:
    request = Request(b"/webhooks/rest/webhook", Header({"content-type": content_type}),
                      "1.1", "POST", None, APP)
    request.body = body
    return request


@settings(max_examples=200, deadline=None)
@given(body=JSON.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=200),
       content_type=st.sampled_from(["application/json", "application/json; charset=utf-8",
                                     "text/plain", ""]))
def test_rest_request_check_answers_every_body(body, content_type):
    parsed, refused = checked_body(_request(body, content_type))
    assert (parsed is None) != (refused is None)
    if refused is not None:
        assert 400 <= refused.status < 500
    else:
        assert isinstance(parsed["sender"], str) and isinstance(parsed["message"], str)
