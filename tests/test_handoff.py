"""The human handoff, end to end: real Rasa server and action server as processes, a
stand-in helpline on 127.0.0.1 that checks the webhook signature, the counsellor API.

crisis -> offer -> accept -> webhook -> claim -> counsellor message -> parent reply seen ->
close -> the assistant answers again; plus the webhook down, bad tokens, two handoffs at
once, a crisis while nobody has claimed, and a restart of both servers mid-handoff.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from bot import db
from bot.helpline_notify import SIGNATURE_HEADER, verify
from tests.conftest import MODEL
from tests.servers import free_port, restart, start

SECRET = secrets.token_hex(16)
ALEX, SAM = secrets.token_hex(16), secrets.token_hex(16)


class Helpline:
    """A stand-in for the helpline's system: records webhooks, can be switched off."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.attempts = 0
        self.failing = False
        helpline = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                helpline.attempts += 1
                if helpline.failing:
                    self.send_response(503)
                    self.end_headers()
                    return
                ok = verify(SECRET, body, self.headers.get(SIGNATURE_HEADER))
                helpline.received.append({"ok": ok, "json": json.loads(body)})
                self.send_response(200 if ok else 401)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def for_conversation(self, conversation_id: str) -> list[dict]:
        return [r for r in self.received if r["json"]["conversation_id"] == conversation_id]


@pytest.fixture(scope="module")
def helpline():
    stand_in = Helpline()
    yield stand_in
    stand_in.server.shutdown()


@pytest.fixture(scope="module")
def servers(tmp_path_factory, helpline):
    assert MODEL.exists(), "no trained model"
    srv = start(tmp_path_factory.mktemp("handoff"), {
        "COUNSELLOR_TOKENS": f"alex:{ALEX},sam:{SAM}",
        "HELPLINE_WEBHOOK_URL": f"http://127.0.0.1:{helpline.port}/hook",
        "HELPLINE_WEBHOOK_SECRET": SECRET,
        "HELPLINE_WEBHOOK_BACKOFF": "0.05",
        "HANDOFF_CLAIM_TIMEOUT": "0",
        "DEFAULT_COUNTRY": "",
    })
    holder = {"srv": srv}
    yield holder
    holder["srv"].stop_all()


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def api(srv, method: str, path: str, token: str | None = ALEX, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    headers.update(kwargs.pop("headers", {}))
    return requests.request(method, f"{srv.rasa_url}/webhooks/counsellor/api/{path}",
                            headers=headers, timeout=30, **kwargs)


def handoff_of(srv, conversation_id: str) -> dict:
    found = [h for h in api(srv, "GET", "handoffs").json()["handoffs"]
             if h["conversation_id"] == conversation_id]
    assert len(found) == 1, found
    return found[0]


def into_handoff(srv, who: str) -> list[dict]:
    """A crisis, then yes to the offer of a person."""
    srv.send(who, "I'm in the UK")
    replies = srv.send(who, "I want to kill myself")
    assert "116 123" in texts(replies)
    assert any(r.get("buttons") for r in replies), "a person must be offered"
    return srv.send(who, "yes please")


def test_lifecycle(servers, helpline):
    srv, who = servers["srv"], secrets.token_hex(16)
    started = texts(into_handoff(srv, who))
    assert "counsellor" in started and "999" in started, started

    hooks = helpline.for_conversation(who)
    assert len(hooks) == 1 and hooks[0]["ok"], "webhook must arrive, correctly signed"
    payload = hooks[0]["json"]
    assert payload["crisis_type"] == "crisis_self_harm" and payload["channel"] == "rest"
    assert "kill" not in json.dumps(payload), "no message text goes to the webhook"
    assert payload["console_url"].endswith(f"#handoff={payload['handoff_id']}")

    assert srv.send(who, "is anyone there?") == [], "the assistant stays silent while paused"
    handoff = handoff_of(srv, who)
    assert handoff["state"] == "waiting" and handoff["notify_state"] == "delivered"
    said = [(line["from"], line["text"]) for line in handoff["transcript"]]
    assert ("parent", "I want to kill myself") in said
    assert ("parent", "is anyone there?") in said

    hid = handoff["id"]
    assert api(srv, "POST", f"handoffs/{hid}/claim").json()["claimed_by"] == "alex"
    assert api(srv, "POST", f"handoffs/{hid}/claim", token=SAM).status_code == 409
    assert api(srv, "POST", f"handoffs/{hid}/messages", token=SAM,
               json={"text": "hi"}).status_code == 409, "only the claimer writes"
    sent = api(srv, "POST", f"handoffs/{hid}/messages",
               json={"text": "Hi, I'm Alex from the helpline. I'm here with you."})
    assert sent.status_code == 200 and sent.json()["delivered"] == "queued"

    replies = srv.send(who, "thank you for coming")
    assert texts(replies) == "Hi, I'm Alex from the helpline. I'm here with you.", replies
    lines = api(srv, "GET", f"handoffs/{hid}").json()["transcript"]
    assert lines[-2]["from"] == "counsellor", "the counsellor wrote first"
    assert (lines[-1]["from"], lines[-1]["text"]) == ("parent", "thank you for coming")

    closed = api(srv, "POST", f"handoffs/{hid}/close")
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    replies = srv.send(who, "I yelled at my son this morning")
    body = texts(replies)
    assert "handed the chat back" in body, body
    assert len(replies) >= 3, "the assistant answers again after the hand-back"
    assert all(h["conversation_id"] != who
               for h in api(srv, "GET", "handoffs").json()["handoffs"])


def test_request_human_starts_a_handoff(servers, helpline):
    srv, who = servers["srv"], secrets.token_hex(16)
    body = texts(srv.send(who, "can i talk to a real person please"))
    assert "person from the helpline team" in body, body
    assert helpline.for_conversation(who)[0]["json"]["reason"] == "request"
    hid = handoff_of(srv, who)["id"]
    assert api(srv, "POST", f"handoffs/{hid}/close").status_code == 200


def test_crisis_while_unclaimed_gets_the_crisis_response_again(servers):
    srv, who = servers["srv"], secrets.token_hex(16)
    into_handoff(srv, who)
    assert srv.send(who, "ok") == []
    again = texts(srv.send(who, "i have the pills in my hand"))
    assert "999" in again and "116 123" in again, again
    hid = handoff_of(srv, who)["id"]
    api(srv, "POST", f"handoffs/{hid}/close")


def test_bad_tokens_see_nothing(servers):
    srv = servers["srv"]
    for token in (None, "", "wrong-token-wrong-token", ALEX + "x"):
        for method, path in (("GET", "handoffs"), ("GET", "handoffs/1"),
                             ("POST", "handoffs/1/claim"), ("POST", "handoffs/1/close")):
            resp = api(srv, method, path, token=token)
            assert resp.status_code == 401, (token, path, resp.status_code)
            assert resp.json() == {"error": "unauthorised"}
    page = requests.get(f"{srv.rasa_url}/webhooks/counsellor/", timeout=10)
    assert page.status_code == 200 and "Counsellor console" in page.text


def test_bad_counsellor_input(servers):
    srv, who = servers["srv"], secrets.token_hex(16)
    into_handoff(srv, who)
    hid = handoff_of(srv, who)["id"]
    api(srv, "POST", f"handoffs/{hid}/claim")
    url = f"handoffs/{hid}/messages"
    json_type = {"Content-Type": "application/json"}
    assert api(srv, "POST", url, data="{not json", headers=json_type).status_code == 400
    assert api(srv, "POST", url, data="{not json").status_code == 415  # not declared JSON
    assert api(srv, "POST", url, json={"text": "   "}).status_code == 400
    assert api(srv, "POST", url, json={"text": "x" * 5000}).status_code == 413
    assert api(srv, "GET", "handoffs/999999").status_code == 404
    api(srv, "POST", f"handoffs/{hid}/close")


def test_two_handoffs_are_not_mixed_up(servers):
    srv = servers["srv"]
    one, two = secrets.token_hex(16), secrets.token_hex(16)
    into_handoff(srv, one)
    into_handoff(srv, two)
    h1, h2 = handoff_of(srv, one)["id"], handoff_of(srv, two)["id"]
    api(srv, "POST", f"handoffs/{h1}/claim")
    api(srv, "POST", f"handoffs/{h2}/claim", token=SAM)
    api(srv, "POST", f"handoffs/{h1}/messages", json={"text": "for parent one"})
    api(srv, "POST", f"handoffs/{h2}/messages", token=SAM, json={"text": "for parent two"})
    assert texts(srv.send(two, "hello")) == "for parent two"
    assert texts(srv.send(one, "hello")) == "for parent one"
    t1 = api(srv, "GET", f"handoffs/{h1}").json()["transcript"]
    assert "for parent two" not in json.dumps(t1)
    api(srv, "POST", f"handoffs/{h1}/close")
    api(srv, "POST", f"handoffs/{h2}/close", token=SAM)


def test_webhook_down_parent_is_told_and_not_left_waiting(servers, helpline):
    srv, who = servers["srv"], secrets.token_hex(16)
    helpline.failing, before = True, helpline.attempts
    try:
        body = texts(into_handoff(srv, who))
    finally:
        helpline.failing = False
    assert helpline.attempts - before == 3, "three delivery attempts"
    assert "couldn't reach" in body and "116 123" in body and "999" in body, body
    assert all(h["conversation_id"] != who
               for h in api(srv, "GET", "handoffs").json()["handoffs"])
    failed = [h for h in api(srv, "GET", "handoffs", params={"state": "all"}).json()["handoffs"]
              if h["conversation_id"] == who]
    assert failed[0]["state"] == "failed" and failed[0]["notify_attempts"] == 3
    assert len(srv.send(who, "I yelled at my son this morning")) >= 3, "not paused"


def test_restart_mid_handoff_loses_nothing(servers):
    srv, who = servers["srv"], secrets.token_hex(16)
    into_handoff(srv, who)
    hid = handoff_of(srv, who)["id"]
    api(srv, "POST", f"handoffs/{hid}/claim")
    srv.send(who, "before the restart")
    srv = servers["srv"] = restart(srv)
    handoff = api(srv, "GET", f"handoffs/{hid}").json()
    assert handoff["state"] == "claimed" and handoff["claimed_by"] == "alex"
    assert "before the restart" in [line["text"] for line in handoff["transcript"]]
    assert srv.send(who, "after the restart") == [], "still paused after a restart"
    api(srv, "POST", f"handoffs/{hid}/messages", json={"text": "still here"})
    assert texts(srv.send(who, "ok")) == "still here"
    row = db.open_handoff(srv.database_url, who)
    assert row is not None and row["id"] == hid
    api(srv, "POST", f"handoffs/{hid}/close")
    time.sleep(0.2)
    assert db.open_handoff(srv.database_url, who) is None
