"""Access and bad input over HTTP, against the real Rasa server and action server.

Each refusal is proven: the HTTP API without (or with a wrong) token, the action server
without the shared token or from a non-loopback address, a website not in CORS_ORIGINS,
malformed JSON and wrong content types on the REST webhook and the counsellor API; and what
gets through: Unicode of every kind stored and returned intact, over-long and too-fast
messages answered kindly (a crisis inside them still answered as a crisis).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import time

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import message_limits
from bot.settings import ROOT
from tests.conftest import MODEL
from tests.servers import free_port, start
from tests.test_fuzz import JSON, TEXT

ACTION_TOKEN = secrets.token_hex(16)
COUNSELLOR = secrets.token_hex(16)
ALLOWED_ORIGIN = "https://parents.example"
RATE_LIMIT = 10
CRISIS_WORDS = ("emergency", "crisis", "samaritans", "988", "999", "911", "112", "lifeline")


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    assert MODEL.exists(), "no trained model"
    servers = start(tmp_path_factory.mktemp("access"), {
        "ACTION_SERVER_TOKEN": ACTION_TOKEN,
        "CORS_ORIGINS": ALLOWED_ORIGIN,
        "COUNSELLOR_TOKENS": f"alex:{COUNSELLOR}",
        "RATE_LIMIT_MESSAGES": str(RATE_LIMIT),
        "RATE_LIMIT_WINDOW": "600",
        "MAX_MESSAGE_CHARS": "4000",
        "DEFAULT_COUNTRY": "",
    })
    yield servers
    servers.stop_all()


def sender() -> str:
    return secrets.token_hex(16)


def texts(replies: list[dict]) -> str:
    return " ".join(r.get("text") or "" for r in replies)


def tracker(srv, conversation_id: str) -> dict:
    resp = requests.get(f"{srv.rasa_url}/conversations/{conversation_id}/tracker",
                        params={"token": srv.token}, timeout=30)
    resp.raise_for_status()
    return resp.json()


def user_texts(srv, conversation_id: str) -> list[str]:
    return [e.get("text") for e in tracker(srv, conversation_id)["events"]
            if e["event"] == "user"]


# --- the Rasa HTTP API --------------------------------------------------------------

def test_http_api_refuses_without_the_token(srv):
    who = sender()
    srv.send(who, "hello")
    url = f"{srv.rasa_url}/conversations/{who}/tracker"
    assert requests.get(url, timeout=30).status_code == 401
    assert requests.get(url, params={"token": "wrong" + srv.token}, timeout=30).status_code \
        == 401
    assert requests.get(url, headers={"Authorization": f"Bearer {srv.token}"},
                        timeout=30).status_code in (401, 403)  # a token is not a JWT
    resp = requests.get(url, params={"token": srv.token}, timeout=30)
    assert resp.status_code == 200 and resp.json()["sender_id"] == who


def test_http_api_cannot_change_a_conversation_without_the_token(srv):
    who = sender()
    resp = requests.post(f"{srv.rasa_url}/conversations/{who}/messages",
                         json={"text": "hi", "sender": "user"}, timeout=30)
    assert resp.status_code == 401
    assert requests.post(f"{srv.rasa_url}/model/parse", json={"text": "hi"},
                         timeout=30).status_code == 401


# --- the action server ----------------------------------------------------------------

def test_action_server_refuses_calls_without_the_shared_token(srv):
    call = {"next_action": "action_gentle_fallback", "sender_id": sender(),
            "tracker": {"sender_id": "x", "events": [], "slots": {},
                        "latest_message": {"text": "hi"}},
            "domain": {}, "version": "3.6.21"}
    url = f"{srv.action_url}/webhook"
    assert requests.post(url, json=call, timeout=30).status_code == 401
    assert requests.post(url, json=call, timeout=30,
                         headers={"Authorization": "Bearer wrong-token-wrong-token"}
                         ).status_code == 401
    assert requests.get(f"{srv.action_url}/actions", timeout=30).status_code == 401
    ok = requests.post(url, json=call, timeout=30,
                       headers={"Authorization": f"Bearer {ACTION_TOKEN}"})
    assert ok.status_code == 200, ok.text
    assert requests.get(f"{srv.action_url}/health", timeout=30).status_code == 200


def test_rasa_server_calls_the_action_server_with_the_token(srv):
    # The repair answer comes from a custom action: without the token it would be refused.
    who = sender()
    assert srv.send(who, "I yelled at my son this morning and I feel awful")
    events = tracker(srv, who)["events"]
    names = [e.get("name") if e["event"] == "action" else e["event"] for e in events]
    ran = [i for i, name in enumerate(names) if name == "action_repair"]
    assert ran, names
    assert "bot" in names[ran[-1]:], names  # the action's replies were received


def _outside_address() -> str | None:
    """A non-loopback address of this machine, to call from somewhere other than 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent for UDP connect
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_action_server_without_token_serves_loopback_only(tmp_path):
    outside = _outside_address()
    if outside is None:
        pytest.skip("this machine has no non-loopback IPv4 address to call from")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ACTION_SERVER_TOKEN": "",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}
    log = open(tmp_path / "actions.log", "w")
    proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "python"), "-m", "bot.action_server",
                             "--port", str(port), "--host", "0.0.0.0"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/health", timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(0.5)
        assert requests.get(f"http://127.0.0.1:{port}/actions", timeout=10).status_code == 200
        resp = requests.get(f"http://{outside}:{port}/actions", timeout=10)
        assert resp.status_code == 403, resp.text
        assert requests.post(f"http://{outside}:{port}/webhook", json={},
                             timeout=10).status_code == 403
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


# --- CORS -----------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/webhooks/rest/webhook", "/status"])
def test_cors_only_for_configured_origins(srv, path):
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    bad = requests.options(srv.rasa_url + path, timeout=30,
                           headers={"Origin": "https://evil.example", **preflight})
    assert "Access-Control-Allow-Origin" not in bad.headers
    good = requests.options(srv.rasa_url + path, timeout=30,
                            headers={"Origin": ALLOWED_ORIGIN, **preflight})
    assert good.headers.get("Access-Control-Allow-Origin") == ALLOWED_ORIGIN
    post = requests.post(srv.rasa_url + "/webhooks/rest/webhook", timeout=60,
                         headers={"Origin": "https://evil.example"},
                         json={"sender": sender(), "message": "hello"})
    assert "Access-Control-Allow-Origin" not in post.headers


# --- malformed input ------------------------------------------------------------------

REST_BAD = [
    ("application/json", b"{not json", 400),
    ("application/json", b"", 400),
    ("application/json", b"[1, 2, 3]", 400),
    ("application/json", b'"just a string"', 400),
    ("application/json", b'{"message": "hi"}', 400),
    ("application/json", b'{"sender": 42, "message": "hi"}', 400),
    ("application/json", b'{"sender": "", "message": "hi"}', 400),
    ("application/json", b'{"sender": "abc", "message": 7}', 400),
    ("application/json", b'{"sender": "abc", "message": null}', 400),
    ("application/json", b'{"sender": "abc", "message": ["hi"]}', 400),
    ("application/json", b'{"sender": "abc", "message": "hi", "metadata": [1]}', 400),
    ("application/json", b'\xff\xfe{"sender": "abc"}', 400),
    ("application/json", ('{"sender": "' + "x" * 200 + '", "message": "hi"}').encode(), 400),
    ("text/plain", b'{"sender": "abc", "message": "hi"}', 415),
    ("application/x-www-form-urlencoded", b"sender=abc&message=hi", 415),
    ("application/json", json.dumps({"sender": "abc", "message": "x" * 1_100_000}).encode(),
     413),
]


@pytest.mark.parametrize("content_type,body,status", REST_BAD)
def test_rest_webhook_refuses_bad_requests_with_4xx(srv, content_type, body, status):
    resp = requests.post(f"{srv.rasa_url}/webhooks/rest/webhook", data=body, timeout=60,
                         headers={"Content-Type": content_type})
    assert resp.status_code == status, (resp.status_code, resp.text[:200])
    assert "error" in resp.json()


def test_counsellor_api_refuses_bad_requests_with_4xx(srv):
    base = f"{srv.rasa_url}/webhooks/counsellor/api"
    auth = {"Authorization": f"Bearer {COUNSELLOR}"}
    assert requests.get(f"{base}/handoffs", timeout=30).status_code == 401
    assert requests.get(f"{base}/handoffs", timeout=30,
                        headers={"Authorization": "Bearer " + "z" * 32}).status_code == 401
    cases = [("text/plain", b'{"text": "hi"}', 415), ("application/json", b"{oops", 400),
             ("application/json", b"[]", 400), ("application/json", b'{"text": ""}', 400),
             ("application/json", json.dumps({"text": "x" * 5000}).encode(), 413)]
    for content_type, body, status in cases:
        resp = requests.post(f"{base}/handoffs/1/messages", data=body, timeout=30,
                             headers={**auth, "Content-Type": content_type})
        assert resp.status_code == status, (content_type, body[:20], resp.text)
    resp = requests.post(f"{base}/handoffs/999999/messages", json={"text": "hi"},
                         headers=auth, timeout=30)
    assert resp.status_code == 404


# --- what gets through ----------------------------------------------------------------

UNICODE = [
    "Mein Sohn 👩‍👧‍👦 schreit 😭😭 und ich auch 🙈",
    "ابني يصرخ كل ليلة ولا أعرف ماذا أفعل",
    "הבת שלי לא ישנה",
    "e\u0301 cafe\u0301 n\u0303 Z̷̢̛̙a̶l̵g̴o̸",
    "我的孩子总是哭 子どもが泣いています 아이가 울어요",
    "\u202eevil override\u202c and zero\u200bwidth and 𝔪𝔞𝔱𝔥 𝟘𝟙 and \U0001f9d1\U0001f3fd",
    "tabs\tand\nnew lines\r\nand <script>alert(1)</script> & [x](javascript:alert(1))",
]


def test_unicode_is_stored_and_returned_intact(srv):
    who = sender()
    for message in UNICODE:
        srv.send(who, message)
    srv.send(who, "NUL\x00inside")
    stored = user_texts(srv, who)
    assert stored == [*UNICODE, "NULinside"]  # NUL is removed (PostgreSQL cannot store it)


def test_overlong_message_gets_a_kind_answer_not_an_error(srv):
    who = sender()
    long_text = ("We went to the park, then had dinner and a bath, and read two books. "
                 * 300)[:20000]
    replies = srv.send(who, long_text)
    assert texts(replies) == message_limits.texts()["too_long"]
    # not stored as a turn, and the conversation goes on normally
    assert srv.send(who, "hello")
    assert long_text not in user_texts(srv, who)


def test_crisis_inside_an_overlong_message_still_gets_crisis_help(srv):
    who = sender()
    filler = "We had a long day at the park and then dinner and bath time was hard. " * 140
    message = filler + " Honestly I want to kill myself tonight. " + filler
    assert len(message) > 4000
    replies = texts(srv.send(who, message)).lower()
    assert any(word in replies for word in CRISIS_WORDS), replies
    assert message_limits.texts()["too_long"].lower() not in replies
    events = tracker(srv, who)["events"]
    intents = [e["parse_data"]["intent"]["name"] for e in events if e["event"] == "user"]
    assert intents[-1].startswith("crisis_"), intents


def test_too_many_messages_get_a_kind_answer_and_crisis_still_gets_through(srv):
    who = sender()
    for _ in range(RATE_LIMIT):
        assert texts(srv.send(who, "ok")) != message_limits.texts()["too_fast"]
    assert texts(srv.send(who, "ok")) == message_limits.texts()["too_fast"]
    crisis = texts(srv.send(who, "I want to kill myself")).lower()
    assert any(word in crisis for word in CRISIS_WORDS), crisis
    assert texts(srv.send(sender(), "hello"))  # other parents are not affected


# --- fuzz over HTTP (fewer examples than in-process: each is a real turn) --------------

@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(message=TEXT)
def test_fuzzed_messages_get_replies_not_errors(srv, message):
    resp = requests.post(f"{srv.rasa_url}/webhooks/rest/webhook", timeout=60,
                         json={"sender": sender(), "message": message})
    assert resp.status_code == 200, resp.text[:200]
    assert isinstance(resp.json(), list)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=JSON.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=100),
       content_type=st.sampled_from(["application/json", "text/plain"]))
def test_fuzzed_bodies_get_4xx_or_replies(srv, body, content_type):
    for url, headers in ((f"{srv.rasa_url}/webhooks/rest/webhook", {}),
                         (f"{srv.rasa_url}/webhooks/counsellor/api/handoffs/1/messages",
                          {"Authorization": f"Bearer {COUNSELLOR}"})):
        resp = requests.post(url, data=body, timeout=60,
                             headers={"Content-Type": content_type, **headers})
        assert resp.status_code < 500, (url, body[:50], resp.status_code, resp.text[:200])
