"""Privacy against the real servers (HTTP API off): no message text in the logs, a parent's
"delete my data" really removes the conversation from the database, retention purge and
export from the command line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import subprocess
import sys

import pytest
import requests
from sqlalchemy import text

from bot import conversation_data, db
from bot.settings import ROOT
from tests.conftest import MODEL
from tests.servers import start

SECRET = "Quenwick" + secrets.token_hex(4)  # a phrase no log line could contain by chance


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    assert MODEL.exists(), "no trained model"
    servers = start(tmp_path_factory.mktemp("privacy"), {
        "RASA_AUTH_TOKEN": "",  # the HTTP API is off
        "DEFAULT_COUNTRY": "UK",
        "STORE_MESSAGE_TEXT": "false",
        "LOG_MESSAGE_TEXT": "false",
    })
    yield servers
    servers.stop_all()


def sender() -> str:
    return secrets.token_hex(16)


def said(replies: list[dict]) -> str:
    return " ".join(r.get("text") or "" for r in replies)


def rows(srv, sql: str, **params: object) -> list[tuple]:
    with db.engine_for(srv.database_url).connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def event_texts(srv, conversation_id: str) -> str:
    return " ".join(r[0] for r in rows(srv, "SELECT data FROM events WHERE sender_id = :s",
                                       s=conversation_id))


def cli(srv, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT),
                               "DATABASE_URL": srv.database_url, **env})


def test_http_api_is_off_without_a_token(srv):
    who = sender()
    srv.send(who, "hello")
    for path in (f"/conversations/{who}/tracker", "/status"):
        resp = requests.get(srv.rasa_url + path, params={"token": ""}, timeout=30)
        assert resp.status_code == 404, (path, resp.status_code)
    resp = requests.post(f"{srv.rasa_url}/model/parse", json={"text": "hi"}, timeout=30)
    assert resp.status_code == 404


def test_message_text_stays_out_of_the_logs(srv):
    who = sender()
    messages = [f"My neighbour {SECRET} says I shout too much at my son",
                f"I want to kill myself, {SECRET} knows",
                "no",
                f"{SECRET} " * 1000,
                f"/{SECRET}"]
    for message in messages:
        srv.send(who, message)
    requests.post(f"{srv.rasa_url}/webhooks/rest/webhook", timeout=30,
                  headers={"Content-Type": "application/json"},
                  data=f'{{"sender": "{who}", "message": "{SECRET}'.encode())
    assert SECRET in event_texts(srv, who)  # it really went through the assistant
    escalation = db.latest_escalation(srv.database_url, who)
    assert escalation is not None and escalation.message_text is None
    logs = [(srv.tmp / "logs" / name).read_text(encoding="utf-8", errors="replace")
            for name in ("rasa.log", "actions.log")]
    assert all(log.strip() for log in logs)
    for log in logs:
        assert SECRET not in log


def test_parent_can_delete_their_conversation(srv):
    url = srv.database_url
    who, other = sender(), sender()
    srv.send(other, "I yelled at my daughter today")  # someone else's, must stay
    srv.send(who, f"I yelled at my son {SECRET} this morning")
    assert any(w in said(srv.send(who, "I want to kill myself")).lower()
               for w in ("samaritans", "999", "116 123"))
    srv.send(who, "no")
    handoff = db.create_handoff(url, conversation_id=who, channel="rest", reason="request")
    db.update_handoff(url, handoff["id"], state="closed", closed_at=db.now())
    db.queue_outbox(url, handoff["id"], who, f"counsellor words for {SECRET}")
    escalations_before = conversation_data.escalation_counts(url)
    assert rows(srv, "SELECT COUNT(*) FROM escalations WHERE conversation_id = :s", s=who)[0][0]

    asked = said(srv.send(who, "please delete everything I told you"))
    assert "delete" in asked.lower() and "can't be undone" in asked
    done = said(srv.send(who, "yes"))
    assert "deleted this conversation" in done and "5 messages" in done, done
    assert "anonymous count" in done and "counsellor" in done

    # In the database: the tracker's events, the outbox text and every link are gone ...
    assert conversation_data.count_events(url, who) == 0
    assert rows(srv, "SELECT COUNT(*) FROM handoff_outbox WHERE conversation_id = :s OR "
                     "text LIKE :t", s=who, t=f"%{SECRET}%")[0][0] == 0
    for table in ("escalations", "handoffs", "deletion_requests"):
        assert rows(srv, f"SELECT COUNT(*) FROM {table} WHERE conversation_id = :s",
                    s=who)[0][0] == 0, table
    assert rows(srv, "SELECT COUNT(*) FROM deletion_requests WHERE done_at IS NOT NULL "
                     "AND conversation_id = :a", a=db.ANONYMISED)[0][0] >= 1
    # ... the counts stay, anonymised ...
    assert conversation_data.escalation_counts(url) == escalations_before
    assert rows(srv, "SELECT COUNT(*) FROM handoffs WHERE id = :i AND conversation_id = :a",
                i=handoff["id"], a=db.ANONYMISED)[0][0] == 1
    # ... someone else's conversation is untouched, and this parent can start again.
    assert conversation_data.count_events(url, other) > 0
    assert said(srv.send(who, "hello"))
    assert SECRET not in event_texts(srv, who)
    assert "kill myself" not in event_texts(srv, who)


def test_no_keeps_the_conversation(srv):
    who = sender()
    srv.send(who, "I yelled at my son this morning")
    asked = said(srv.send(who, "can you wipe this chat"))
    assert "Shall I delete it" in asked, asked
    kept = said(srv.send(who, "no"))
    assert "kept everything" in kept
    assert "yelled at my son" in event_texts(srv, who)
    assert not rows(srv, "SELECT id FROM deletion_requests WHERE conversation_id = :s", s=who)


def test_purge_deletes_old_conversations_and_keeps_counts(srv):
    url = srv.database_url
    old, recent = sender(), sender()
    srv.send(old, "I want to kill myself")
    srv.send(old, "no")
    srv.send(recent, "I yelled at my daughter")
    forty_days = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=40)).timestamp()
    with db.engine_for(url).begin() as conn:
        conn.execute(text("UPDATE events SET timestamp = :t WHERE sender_id = :s"),
                     {"t": forty_days, "s": old})
    counts = conversation_data.escalation_counts(url)

    assert cli(srv, "purge", "--older-than", "bogus").returncode == 2
    result = cli(srv, "purge", "--older-than", "30d")
    assert result.returncode == 0, result.stderr
    assert "conversations" in result.stdout and old not in result.stdout

    assert conversation_data.count_events(url, old) == 0
    assert conversation_data.count_events(url, recent) > 0
    assert rows(srv, "SELECT COUNT(*) FROM escalations WHERE conversation_id = :s",
                s=old)[0][0] == 0
    assert conversation_data.escalation_counts(url) == counts

    # RETENTION_DAYS is the default; 50 days keeps a 40-day-old conversation.
    srv.send(old, "hello")
    with db.engine_for(url).begin() as conn:
        conn.execute(text("UPDATE events SET timestamp = :t WHERE sender_id = :s"),
                     {"t": forty_days, "s": old})
    assert cli(srv, "purge", RETENTION_DAYS="50").returncode == 0
    assert conversation_data.count_events(url, old) > 0
    assert cli(srv, "purge", RETENTION_DAYS="39").returncode == 0
    assert conversation_data.count_events(url, old) == 0


def test_export_one_conversation(srv, tmp_path):
    who = sender()
    messages = ["I yelled at my son 😞", "ابني يصرخ", "I want to kill myself"]
    for message in messages:
        srv.send(who, message)
    out = tmp_path / "export.json"
    result = cli(srv, "export", who, "--out", str(out))
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["conversation_id"] == who
    assert [e["text"] for e in data["events"] if e["event"] == "user"] == messages
    assert any(e["event"] == "bot" for e in data["events"])
    assert [e["crisis_type"][:6] for e in data["escalations"]] == ["crisis"]
    missing = cli(srv, "export", sender())
    assert missing.returncode == 1 and "no conversation" in missing.stderr
