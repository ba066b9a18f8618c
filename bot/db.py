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
