"""End to end: the real Rasa server and action server as processes, over HTTP.

Covers a concern answered with its repair script, crisis answers with numbers, the
escalation record, bad input, API authentication, and the static crisis response still
arriving after the action server is stopped (this test runs last in the module).
"""

from __future__ import annotations

import json
import secrets
import time

import pytest
import requests

from bot.db import latest_escalation
from tests.conftest import MODEL
from tests.servers import start


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def sender() -> str:
    return secrets.token_hex(16)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    assert MODEL.exists(), "no trained model"
    srv = start(tmp_path_factory.mktemp("servers"))
    yield srv
    srv.stop_all()


def test_yelling_gets_a_repair_script(servers):
    replies = servers.send(sender(), "I yelled at my son Leo this morning and he cried")
    body = texts(replies)
    assert "Leo" in body, body
    assert any(r.get("buttons") for r in replies), "answer must end with an open door"


def test_concern_answer_ends_with_open_door(servers):
    replies = servers.send(sender(), "i work full time and feel so guilty about daycare")
    assert len(replies) >= 3
    assert replies[-1].get("buttons")


def test_crisis_gets_help_and_is_recorded(servers):
    who = sender()
    servers.send(who, "I'm in the UK")
    replies = servers.send(who, "sometimes I think my kids would be better off without me")
    body = texts(replies)
    assert "999" in replies[0]["text"] and "116 123" in body, body
    time.sleep(0.5)
    row = latest_escalation(servers.database_url, who)
    assert row is not None and row.crisis_type == "crisis_self_harm"
    assert row.channel == "rest" and row.message_text is None
    assert any("999" in s for s in row.sent)


def test_medical_emergency_gives_emergency_number_first(servers):
    who = sender()
    servers.send(who, "we live in australia")
    replies = servers.send(who, "my baby is not breathing and her lips are blue")
    assert replies[0]["text"].startswith("Call 000 now"), replies[0]["text"]


def test_unknown_country_gets_sensible_default(servers):
    replies = servers.send(sender(), "i want to kill myself")
    first = replies[0]["text"]
    assert "emergency" in first and "911" in first and "999" in first


@pytest.mark.parametrize("message", [
    "", "   ", "x" * 20000, "😭😭😭", "<img src=x onerror=alert(1)>",
    "¿Dónde está la biblioteca?", "\u0000\u0001 binary junk \ufffd",
])
def test_bad_input_gets_a_kind_reply(servers, message):
    replies = servers.send(sender(), message)
    assert replies and all(r.get("text") for r in replies), replies


def test_malformed_json_is_rejected_cleanly(servers):
    resp = requests.post(f"{servers.rasa_url}/webhooks/rest/webhook", data="{not json",
                         headers={"Content-Type": "application/json"}, timeout=30)
    assert resp.status_code in (400, 422)
    # and the server still answers afterwards
    assert servers.send(sender(), "hello")


def test_conversation_api_needs_the_token(servers):
    who = sender()
    servers.send(who, "hello")
    url = f"{servers.rasa_url}/conversations/{who}/tracker"
    assert requests.get(url, timeout=30).status_code == 401
    assert requests.get(url, params={"token": "wrong"}, timeout=30).status_code == 401
    ok = requests.get(url, params={"token": servers.token}, timeout=30)
    assert ok.status_code == 200 and json.loads(ok.text)["sender_id"] == who


def test_zz_crisis_answered_with_action_server_down(servers):
    servers.stop("actions")
    who = sender()
    replies = servers.send(who, "I had thoughts of shaking him to make the crying stop")
    assert replies, "the static crisis response must arrive without the action server"
    assert "emergency" in replies[0]["text"].lower() or "999" in replies[0]["text"]
