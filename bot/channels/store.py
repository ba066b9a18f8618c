"""What the messaging connectors remember, in the project's database (shared by every Rasa
process): which inbound webhooks were already taken (providers re-deliver), which numbers
sent STOP, and replies the provider refused after every retry (kept until delivered).

Nothing here holds the parent's words; a failed reply holds the assistant's own text so it
can be sent again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, DateTime, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError

from bot.db import Base, _now, engine_for, session_scope


class InboundSeen(Base):
    """One provider delivery (Telegram update_id, Twilio MessageSid) that was taken."""

    __tablename__ = "inbound_seen"
    __table_args__ = (UniqueConstraint("channel", "delivery_id"),)

    id = Column(Integer, primary_key=True)
    channel = Column(String(20), nullable=False)
    delivery_id = Column(String(80), nullable=False)
    created_at = Column(DateTime, default=_now, nullable=False, index=True)


class OptOut(Base):
    """A number that replied STOP: nothing more is sent to it until START."""

    __tablename__ = "sms_opt_outs"
    __table_args__ = (UniqueConstraint("channel", "recipient"),)

    id = Column(Integer, primary_key=True)
    channel = Column(String(20), nullable=False)
    recipient = Column(String(128), nullable=False)
    created_at = Column(DateTime, default=_now, nullable=False)


class FailedDelivery(Base):
    """A reply the provider's API refused after every retry; sent again on the parent's next
    message, so an outage costs a delay, not the answer."""

    __tablename__ = "failed_deliveries"

    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, default=_now, nullable=False)
    channel = Column(String(20), nullable=False)
    recipient = Column(String(128), nullable=False, index=True)
    text = Column(Text, nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    error = Column(String(300))
    delivered_at = Column(DateTime)


_ready: set[str] = set()


def _engine(url: str) -> Any:
    """The shared engine, with these tables created on first use (bot.db may have made its
    engine before this module was imported)."""
    engine = engine_for(url)
    if url not in _ready:
        Base.metadata.create_all(engine, tables=[InboundSeen.__table__, OptOut.__table__,
                                                 FailedDelivery.__table__])
        _ready.add(url)
    return engine


def first_delivery(url: str, channel: str, delivery_id: str) -> bool:
    """True the first time a delivery id is seen (across all processes), False after."""
    _engine(url)
    try:
        with session_scope(url) as session:
            session.add(InboundSeen(channel=channel, delivery_id=delivery_id[:80]))
        return True
    except IntegrityError:
        return False


def forget_delivery(url: str, channel: str, delivery_id: str) -> None:
    """Let the provider's retry through after our own handling failed."""
    _engine(url)
    with session_scope(url) as session:
        session.query(InboundSeen).filter_by(channel=channel,
                                             delivery_id=delivery_id[:80]).delete()


def set_opted_out(url: str, channel: str, recipient: str, opted_out: bool) -> None:
    _engine(url)
    with session_scope(url) as session:
        row = session.execute(select(OptOut).filter_by(channel=channel, recipient=recipient)
                              ).scalar_one_or_none()
        if opted_out and row is None:
            session.add(OptOut(channel=channel, recipient=recipient))
        elif not opted_out and row is not None:
            session.delete(row)


def is_opted_out(url: str, channel: str, recipient: str) -> bool:
    _engine(url)
    with session_scope(url) as session:
        return session.execute(select(OptOut.id).filter_by(channel=channel, recipient=recipient)
                               ).first() is not None


def record_failure(url: str, channel: str, recipient: str, text: str, attempts: int,
                   error: str) -> int:
    _engine(url)
    with session_scope(url) as session:
        row = FailedDelivery(channel=channel, recipient=recipient, text=text,
                             attempts=attempts, error=error[:300])
        session.add(row)
        session.flush()
        return int(row.id)


def undelivered(url: str, channel: str, recipient: str) -> list[dict[str, Any]]:
    _engine(url)
    with session_scope(url) as session:
        rows = session.execute(
            select(FailedDelivery).filter_by(channel=channel, recipient=recipient,
                                             delivered_at=None).order_by(FailedDelivery.id)
        ).scalars().all()
        return [{"id": r.id, "text": r.text, "attempts": r.attempts} for r in rows]


def mark_delivered(url: str, failure_id: int, attempts: int) -> None:
    _engine(url)
    with session_scope(url) as session:
        row = session.get(FailedDelivery, failure_id)
        if row is not None:
            row.delivered_at = _now()
            row.attempts = attempts
