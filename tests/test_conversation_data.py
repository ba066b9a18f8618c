"""Deletion, purge and export in the database: conversations written by Rasa's own
SQLTrackerStore, on SQLite and on PostgreSQL (a private database, dropped afterwards).
The end-to-end versions through the real servers are in tests/test_privacy.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import uuid

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text

from bot import conversation_data, db

DAY = 86400.0


def _postgres_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """(database URL, Rasa SQLTrackerStore) on a fresh database."""
    domain = Domain.empty()
    if request.param == "sqlite":
        path = tmp_path / "privacy.db"
        yield f"sqlite:///{path}", SQLTrackerStore(domain, dialect="sqlite", db=str(path))
        return
    if not _postgres_up():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is expected in CI but 127.0.0.1:5432 is not reachable")
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")
    name = f"parenting_privacy_{uuid.uuid4().hex[:10]}"
    admin = create_engine("postgresql://postgres@127.0.0.1:5432/postgres",
                          isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    tracker_store = SQLTrackerStore(domain, dialect="postgresql", host="127.0.0.1",
                                    port=5432, db=name, username="postgres")
    try:
        yield url, tracker_store
    finally:
        tracker_store.engine.dispose()
        db.engine_for(url).dispose()
        db.engine_for.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def conversation(tracker_store: SQLTrackerStore, sender: str, words: list[str],
                 at: float | list[float]) -> None:
    """Save a conversation (one message per word, at the given time(s)) with Rasa's store."""
    times = at if isinstance(at, list) else [at + i for i in range(len(words))]
    events = []
    for i, (said, when) in enumerate(zip(words, times)):
        events.append(UserUttered(said, {"name": "greet", "confidence": 1.0},
                                  timestamp=when))
        events.append(BotUttered(f"reply to {i}", timestamp=when + 0.5))
    asyncio.run(tracker_store.save(DialogueStateTracker.from_events(sender, events)))


def escalation(url: str, sender: str, when: dt.datetime | None = None) -> None:
    db.record_escalation(url, conversation_id=sender, crisis_type="crisis_self_harm",
                         detected_by="pattern", channel="rest", sent=["Call 999"],
                         message_text="words of the parent",
                         **({"created_at": when} if when else {}))


def test_deleting_while_rasa_holds_the_tracker_is_undone_by_its_save(store):
    """Why the events are deleted after the turn: Rasa's save writes back what is missing."""
    url, tracker_store = store
    conversation(tracker_store, "p1", ["secret one"], 1000.0)
    held = asyncio.run(tracker_store.retrieve("p1"))  # Rasa holds it during the turn
    conversation_data.delete_events(url, "p1")  # deleting inside the action ...
    held.update(BotUttered("deleted!"))
    asyncio.run(tracker_store.save(held))  # ... is undone by the end of the turn
    assert conversation_data.count_events(url, "p1") == 3
    conversation_data.complete_deletion(url, "p1")  # after the save: gone
    assert conversation_data.count_events(url, "p1") == 0
    assert asyncio.run(tracker_store.retrieve("p1")) is None


def test_delete_my_data_in_the_database(store):
    url, tracker_store = store
    now = dt.datetime.now(dt.timezone.utc).timestamp()
    conversation(tracker_store, "parent", ["my secret", "more"], now)
    conversation(tracker_store, "other", ["not mine"], now)
    escalation(url, "parent")
    escalation(url, "other")
    handoff = db.create_handoff(url, conversation_id="parent", channel="rest")
    db.queue_outbox(url, handoff["id"], "parent", "counsellor words")

    done = conversation_data.request_deletion(url, "parent")
    assert done == {"outbox": 1, "escalations": 1, "handoffs": 1}
    assert conversation_data.pending_deletion(url, "parent")
    assert conversation_data.complete_deletion(url, "parent") == 4
    assert not conversation_data.pending_deletion(url, "parent")

    assert conversation_data.count_events(url, "parent") == 0
    assert conversation_data.count_events(url, "other") == 2
    with db.engine_for(url).connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM handoff_outbox")).scalar() == 0
        rows = conn.execute(text("SELECT conversation_id, message_text, crisis_type "
                                 "FROM escalations ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [
            (db.ANONYMISED, None, "crisis_self_harm"),
            ("other", "words of the parent", "crisis_self_harm")]
        assert conn.execute(text("SELECT conversation_id FROM handoffs")).scalar() \
            == db.ANONYMISED
        assert conn.execute(text("SELECT conversation_id FROM deletion_requests")).scalar() \
            == db.ANONYMISED
    assert conversation_data.escalation_counts(url) == {"crisis_self_harm": 2}


def test_purge_by_last_activity(store):
    url, tracker_store = store
    now = dt.datetime.now(dt.timezone.utc)
    conversation(tracker_store, "old", ["long ago"], now.timestamp() - 40 * DAY)
    conversation(tracker_store, "spans", ["then", "and today"],
                 [now.timestamp() - 40 * DAY, now.timestamp()])
    conversation(tracker_store, "new", ["today"], now.timestamp())
    naive = now.replace(tzinfo=None)
    escalation(url, "old", naive - dt.timedelta(days=40))
    escalation(url, "spans", naive - dt.timedelta(days=40))
    escalation(url, "new")

    done = conversation_data.purge(url, conversation_data.parse_age("30d"))
    assert done["conversations"] == 1 and done["events"] == 2
    assert done["escalations"] == 2  # the old conversation's, and the old one of "spans"
    assert conversation_data.count_events(url, "old") == 0
    assert conversation_data.count_events(url, "spans") == 4
    assert conversation_data.count_events(url, "new") == 2
    assert conversation_data.escalation_counts(url) == {"crisis_self_harm": 3}
    with db.engine_for(url).connect() as conn:
        kept = conn.execute(text("SELECT conversation_id FROM escalations "
                                 "WHERE message_text IS NOT NULL")).scalars().all()
    assert kept == ["new"]
    again = conversation_data.purge(url, dt.timedelta(days=30))
    assert again["conversations"] == 0 and again["escalations"] == 0


def test_export_has_events_and_records(store):
    url, tracker_store = store
    conversation(tracker_store, "p", ["héllo 👋", "ابني"], 5000.0)
    escalation(url, "p")
    data = conversation_data.export(url, "p")
    assert [e["text"] for e in data["events"] if e["event"] == "user"] == ["héllo 👋", "ابني"]
    assert len(data["escalations"]) == 1 and data["handoffs"] == []
    assert conversation_data.export(url, "nobody")["events"] == []


@pytest.mark.parametrize("value,expected", [("30d", dt.timedelta(days=30)),
                                            ("12h", dt.timedelta(hours=12)),
                                            ("2w", dt.timedelta(weeks=2)),
                                            ("7", dt.timedelta(days=7))])
def test_parse_age(value, expected):
    assert conversation_data.parse_age(value) == expected


@pytest.mark.parametrize("value", ["", "thirty", "30 days", "-1d"])
def test_parse_age_refuses(value):
    with pytest.raises(ValueError):
        conversation_data.parse_age(value)
