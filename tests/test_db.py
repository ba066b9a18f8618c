"""Escalation records through SQLAlchemy: SQLite by default, PostgreSQL when reachable."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from bot.db import latest_escalation, record_escalation, set_handoff_answer


def _postgres_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def _urls(tmp_path):
    yield f"sqlite:///{tmp_path / 'test.db'}"
    if _postgres_up():
        yield "postgresql://postgres@127.0.0.1:5432/test"
    elif os.environ.get("CI"):
        pytest.fail("PostgreSQL is expected in CI but 127.0.0.1:5432 is not reachable")
    else:
        print("PostgreSQL not reachable on 127.0.0.1:5432: testing SQLite only")


def test_escalation_round_trip(tmp_path):
    for url in _urls(tmp_path):
        conversation = uuid.uuid4().hex
        record_escalation(url, conversation_id=conversation, crisis_type="crisis_self_harm",
                          detected_by="pattern", pattern="want_to_die", channel="rest",
                          country="UK", sent=["Call 999 now."], handoff_offered=True)
        row = latest_escalation(url, conversation)
        assert row is not None and row.crisis_type == "crisis_self_harm"
        assert row.detected_by == "pattern" and row.sent == ["Call 999 now."]
        assert row.message_text is None
        assert set_handoff_answer(url, conversation, "yes")
        assert latest_escalation(url, conversation).handoff_answer == "yes"


def test_answer_without_offer_is_not_recorded(tmp_path):
    url = f"sqlite:///{tmp_path / 'test.db'}"
    assert not set_handoff_answer(url, "nobody", "yes")
