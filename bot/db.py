"""The project's own tables, through SQLAlchemy (SQLite by default, PostgreSQL by URL).

An escalation row records that the crisis protocol ran: when, for which conversation,
which crisis type, which detection layer, on which channel and what was sent. Message
text is stored only when STORE_MESSAGE_TEXT asks for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, Column, DateTime, Integer, String, Text, create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker

Base = declarative_base()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Escalation(Base):
    """One run of the crisis protocol in one conversation."""

    __tablename__ = "escalations"

    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, default=_now, nullable=False)
    conversation_id = Column(String(128), index=True, nullable=False)
    crisis_type = Column(String(40), nullable=False)
    detected_by = Column(String(40), nullable=False)
    pattern = Column(String(80))
    channel = Column(String(40))
    country = Column(String(40))
    sent = Column(JSON, nullable=False, default=list)
    handoff_offered = Column(Boolean, default=False, nullable=False)
    handoff_answer = Column(String(20))
    answered_at = Column(DateTime)
    message_text = Column(Text)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One engine per URL; creates the SQLite folder and the tables on first use."""
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True, pool_pre_ping=True)
    Base.metadata.create_all(engine)
    return engine


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = sessionmaker(bind=engine_for(url), future=True)()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


def record_escalation(url: str, **fields: Any) -> int:
    """Insert an escalation row and return its id."""
    with session_scope(url) as session:
        row = Escalation(**fields)
        session.add(row)
        session.flush()
        return int(row.id)


def latest_escalation(url: str, conversation_id: str) -> Escalation | None:
    """The newest escalation of a conversation (detached, read-only use)."""
    with session_scope(url) as session:
        row = (
            session.query(Escalation)
            .filter_by(conversation_id=conversation_id)
            .order_by(Escalation.id.desc())
            .first()
        )
        if row is not None:
            session.expunge(row)
        return row


def set_handoff_answer(url: str, conversation_id: str, answer: str) -> bool:
    """Store the parent's answer to the offer of a person; False if nothing was offered."""
    with session_scope(url) as session:
        row = (
            session.query(Escalation)
            .filter_by(conversation_id=conversation_id, handoff_offered=True)
            .order_by(Escalation.id.desc())
            .first()
        )
        if row is None:
            return False
        row.handoff_answer = answer
        row.answered_at = _now()
        return True


class Handoff(Base):
    """A conversation handed to a human counsellor, from the offer to the hand-back.

    States: ``waiting`` (paused, helpline told), ``claimed`` (a counsellor is on it),
    ``closed`` (the assistant is back) and ``failed`` (the helpline could not be told, so
    the assistant stayed on and gave the numbers again).
    """

    __tablename__ = "handoffs"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), index=True, nullable=False)
    channel = Column(String(40))
    crisis_type = Column(String(40))
    reason = Column(String(20), nullable=False, default="crisis")
    country = Column(String(40))
    state = Column(String(20), index=True, nullable=False, default="waiting")
    created_at = Column(DateTime, default=_now, nullable=False)
    claimed_at = Column(DateTime)
    claimed_by = Column(String(80))
    closed_at = Column(DateTime)
    closed_by = Column(String(80))
    notify_state = Column(String(20), nullable=False, default="pending")
    notify_attempts = Column(Integer, nullable=False, default=0)
    notify_error = Column(String(200))
    notified_at = Column(DateTime)
    crisis_resent_at = Column(DateTime)


class OutboxMessage(Base):
    """A counsellor's message for a parent whose channel cannot be pushed to (REST):
    it goes out with the reply to the parent's next message."""

    __tablename__ = "handoff_outbox"

    id = Column(Integer, primary_key=True)
    handoff_id = Column(Integer, index=True, nullable=False)
    conversation_id = Column(String(128), index=True, nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(DateTime, default=_now, nullable=False)
    delivered_at = Column(DateTime)


class DeletionRequest(Base):
    """A parent asked for their conversation to be deleted (``action_delete_my_data``).

    The action server removes the project's records at once; the Rasa server deletes the
    tracker's events right after the turn (it saves the tracker at the end of the turn, so
    deleting them inside the action would be undone). Once done, the conversation id is
    replaced by ``ANONYMISED``: only the count of deletions remains.
    """

    __tablename__ = "deletion_requests"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), index=True, nullable=False)
    requested_at = Column(DateTime, default=_now, nullable=False)
    done_at = Column(DateTime)


ANONYMISED = "anonymised"
OPEN_STATES = ("waiting", "claimed")


def handoff_dict(row: Handoff) -> dict[str, Any]:
    """A handoff as plain data (for the API and for use after the session closes)."""
    def iso(value: dt.datetime | None) -> str | None:
        return value.isoformat() + "Z" if value else None

    return {"id": row.id, "conversation_id": row.conversation_id, "channel": row.channel,
            "crisis_type": row.crisis_type, "reason": row.reason, "country": row.country,
            "state": row.state, "created_at": iso(row.created_at),
            "claimed_at": iso(row.claimed_at), "claimed_by": row.claimed_by,
            "closed_at": iso(row.closed_at), "notify_state": row.notify_state,
            "notify_attempts": row.notify_attempts,
            "crisis_resent_at": iso(row.crisis_resent_at)}


def create_handoff(url: str, **fields: Any) -> dict[str, Any]:
    """Open a handoff for a conversation, or return the one already open."""
    with session_scope(url) as session:
        row = (session.query(Handoff)
               .filter(Handoff.conversation_id == fields["conversation_id"],
                       Handoff.state.in_(OPEN_STATES))
               .order_by(Handoff.id.desc()).first())
        if row is None:
            row = Handoff(**fields)
            session.add(row)
            session.flush()
        return handoff_dict(row)


def open_handoff(url: str, conversation_id: str) -> dict[str, Any] | None:
    """The conversation's open handoff (waiting or claimed), if any."""
    with session_scope(url) as session:
        row = (session.query(Handoff)
               .filter(Handoff.conversation_id == conversation_id,
                       Handoff.state.in_(OPEN_STATES))
               .order_by(Handoff.id.desc()).first())
        return handoff_dict(row) if row else None


def get_handoff(url: str, handoff_id: int) -> dict[str, Any] | None:
    with session_scope(url) as session:
        row = session.get(Handoff, handoff_id)
        return handoff_dict(row) if row else None


def list_handoffs(url: str, states: tuple[str, ...] = OPEN_STATES) -> list[dict[str, Any]]:
    with session_scope(url) as session:
        rows = (session.query(Handoff).filter(Handoff.state.in_(states))
                .order_by(Handoff.created_at).all())
        return [handoff_dict(r) for r in rows]


def update_handoff(url: str, handoff_id: int, *, expect: tuple[str, ...] | None = None,
                   **fields: Any) -> dict[str, Any] | None:
    """Change a handoff; with ``expect``, only if its state is one of those (else None)."""
    with session_scope(url) as session:
        row = session.get(Handoff, handoff_id, with_for_update=True)
        if row is None or (expect is not None and row.state not in expect):
            return None
        for key, value in fields.items():
            setattr(row, key, value)
        session.flush()
        return handoff_dict(row)


def queue_outbox(url: str, handoff_id: int, conversation_id: str, text: str) -> int:
    with session_scope(url) as session:
        row = OutboxMessage(handoff_id=handoff_id, conversation_id=conversation_id, text=text)
        session.add(row)
        session.flush()
        return int(row.id)


def take_outbox(url: str, conversation_id: str) -> list[str]:
    """Undelivered counsellor messages for a conversation, oldest first, marked delivered."""
    with session_scope(url) as session:
        query = session.query(OutboxMessage).filter_by(conversation_id=conversation_id,
                                                       delivered_at=None)
        if query.first() is None:  # the usual case: a read, no lock
            return []
        rows = query.order_by(OutboxMessage.id).with_for_update().all()
        now = _now()
        for row in rows:
            row.delivered_at = now
        return [r.text for r in rows]


def now() -> dt.datetime:
    """UTC now, naive (as stored)."""
    return _now()
