"""What is kept about a conversation, and how it is deleted, purged and exported.

Two places hold a conversation: Rasa's SQL tracker store (table ``events``: every message,
reply and slot, in the same database as DATABASE_URL) and the project's tables
(``escalations``, ``handoffs``, ``handoff_outbox``, ``deletion_requests``, bot/db.py).
Deleting a conversation removes its events and the counsellor messages waiting in the
outbox, and anonymises escalation and handoff rows: the conversation id is replaced and any
stored message text removed, so the counts (how often the crisis protocol ran, how many
handoffs) stay without anything that links them to a parent.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from sqlalchemy import inspect, text

from bot import db

EVENTS_TABLE = "events"  # Rasa 3.6's SQLTrackerStore


def _has_events_table(url: str) -> bool:
    return inspect(db.engine_for(url)).has_table(EVENTS_TABLE)


def count_events(url: str, conversation_id: str) -> int:
    """Rows the tracker store holds for a conversation."""
    if not _has_events_table(url):
        return 0
    with db.engine_for(url).connect() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {EVENTS_TABLE} "
                                     "WHERE sender_id = :s"), {"s": conversation_id}).scalar())


def delete_events(url: str, conversation_id: str) -> int:
    """Delete a conversation from the tracker store; returns the number of rows removed.

    Call it only while holding the conversation's lock and outside a turn: Rasa saves the
    tracker at the end of a turn and would write the events back.
    """
    if not _has_events_table(url):
        return 0
    with db.engine_for(url).begin() as conn:
        return int(conn.execute(text(f"DELETE FROM {EVENTS_TABLE} WHERE sender_id = :s"),
                                {"s": conversation_id}).rowcount)


def forget_records(url: str, conversation_ids: list[str]) -> dict[str, int]:
    """Delete outbox text and anonymise escalations and handoffs of these conversations."""
    if not conversation_ids:
        return {"outbox": 0, "escalations": 0, "handoffs": 0}
    with db.session_scope(url) as session:
        outbox = (session.query(db.OutboxMessage)
                  .filter(db.OutboxMessage.conversation_id.in_(conversation_ids))
                  .delete(synchronize_session=False))
        escalations = (session.query(db.Escalation)
                       .filter(db.Escalation.conversation_id.in_(conversation_ids))
                       .update({"conversation_id": db.ANONYMISED, "message_text": None},
                               synchronize_session=False))
        handoffs = (session.query(db.Handoff)
                    .filter(db.Handoff.conversation_id.in_(conversation_ids))
                    .update({"conversation_id": db.ANONYMISED, "claimed_by": None,
                             "closed_by": None, "notify_error": None},
                            synchronize_session=False))
    return {"outbox": int(outbox), "escalations": int(escalations),
            "handoffs": int(handoffs)}


def request_deletion(url: str, conversation_id: str) -> dict[str, int]:
    """What ``action_delete_my_data`` does at once: the project's records go, and the
    Rasa server is asked (a ``deletion_requests`` row) to delete the events after the turn."""
    done = forget_records(url, [conversation_id])
    with db.session_scope(url) as session:
        session.add(db.DeletionRequest(conversation_id=conversation_id))
    return done


def pending_deletion(url: str, conversation_id: str) -> bool:
    with db.session_scope(url) as session:
        return session.query(db.DeletionRequest.id).filter_by(
            conversation_id=conversation_id, done_at=None).first() is not None


def complete_deletion(url: str, conversation_id: str) -> int:
    """Delete the events of a conversation whose deletion was requested; returns rows."""
    removed = delete_events(url, conversation_id)
    forget_records(url, [conversation_id])  # anything written during the last turn
    with db.session_scope(url) as session:
        (session.query(db.DeletionRequest)
         .filter_by(conversation_id=conversation_id, done_at=None)
         .update({"conversation_id": db.ANONYMISED, "done_at": db.now()},
                 synchronize_session=False))
    return removed


def pending_deletions(url: str) -> list[str]:
    with db.session_scope(url) as session:
        rows = session.query(db.DeletionRequest.conversation_id).filter_by(done_at=None)
        return sorted({r[0] for r in rows})


def parse_age(value: str) -> dt.timedelta:
    """``30d``, ``12h``, ``2w`` or a plain number of days."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([dhw]?)\s*", value)
    if not match:
        raise ValueError(f"not an age: {value!r} (use e.g. 30d, 12h, 2w)")
    amount, unit = float(match.group(1)), match.group(2) or "d"
    return {"d": dt.timedelta(days=amount), "h": dt.timedelta(hours=amount),
            "w": dt.timedelta(weeks=amount)}[unit]


def purge(url: str, older_than: dt.timedelta, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete conversations whose last event is older than ``older_than``, with their
    records; anonymise every escalation and handoff older than that; finish any deletion a
    parent asked for that the server could not complete."""
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    cutoff = now - older_than
    old: list[str] = []
    if _has_events_table(url):
        with db.engine_for(url).connect() as conn:
            old = [row[0] for row in conn.execute(
                text(f"SELECT sender_id FROM {EVENTS_TABLE} GROUP BY sender_id "
                     "HAVING MAX(timestamp) < :cutoff"),
                {"cutoff": cutoff.replace(tzinfo=dt.timezone.utc).timestamp()})]
    events = 0
    for conversation_id in old:
        events += delete_events(url, conversation_id)
    records = forget_records(url, old)
    for key, value in _forget_old_records(url, cutoff).items():
        records[key] += value
    requested = pending_deletions(url)
    for conversation_id in requested:
        events += complete_deletion(url, conversation_id)
    return {"conversations": len(old), "events": events, "requested_deletions": len(requested),
            **records}


def _forget_old_records(url: str, cutoff: dt.datetime) -> dict[str, int]:
    """Records older than the cutoff, also of conversations that are still going on."""
    with db.session_scope(url) as session:
        outbox = (session.query(db.OutboxMessage)
                  .filter(db.OutboxMessage.created_at < cutoff)
                  .delete(synchronize_session=False))
        escalations = (session.query(db.Escalation)
                       .filter(db.Escalation.created_at < cutoff,
                               db.Escalation.conversation_id != db.ANONYMISED)
                       .update({"conversation_id": db.ANONYMISED, "message_text": None},
                               synchronize_session=False))
        handoffs = (session.query(db.Handoff)
                    .filter(db.Handoff.created_at < cutoff,
                            db.Handoff.state.notin_(db.OPEN_STATES),
                            db.Handoff.conversation_id != db.ANONYMISED)
                    .update({"conversation_id": db.ANONYMISED, "claimed_by": None,
                             "closed_by": None, "notify_error": None},
                            synchronize_session=False))
    return {"outbox": int(outbox), "escalations": int(escalations),
            "handoffs": int(handoffs)}


def escalation_counts(url: str) -> dict[str, int]:
    """Crisis protocol runs by crisis type (what stays after deletion and purge)."""
    with db.session_scope(url) as session:
        counts: dict[str, int] = {}
        for (kind,) in session.query(db.Escalation.crisis_type):
            counts[kind] = counts.get(kind, 0) + 1
        return counts


def export(url: str, conversation_id: str) -> dict[str, Any]:
    """One conversation for the helpline: its events and project records, as plain data."""
    events: list[dict[str, Any]] = []
    if _has_events_table(url):
        with db.engine_for(url).connect() as conn:
            rows = conn.execute(text(f"SELECT data FROM {EVENTS_TABLE} WHERE sender_id = :s "
                                     "ORDER BY id"), {"s": conversation_id})
            events = [json.loads(row[0]) for row in rows]
    with db.session_scope(url) as session:
        handoffs = [db.handoff_dict(r) for r in session.query(db.Handoff)
                    .filter_by(conversation_id=conversation_id).order_by(db.Handoff.id)]
        escalations = [_escalation_dict(r) for r in session.query(db.Escalation)
                       .filter_by(conversation_id=conversation_id)
                       .order_by(db.Escalation.id)]
        outbox = [{"handoff_id": r.handoff_id, "text": r.text,
                   "created_at": _iso(r.created_at), "delivered_at": _iso(r.delivered_at)}
                  for r in session.query(db.OutboxMessage)
                  .filter_by(conversation_id=conversation_id).order_by(db.OutboxMessage.id)]
    return {"conversation_id": conversation_id,
            "exported_at": _iso(db.now()),
            "events": events, "handoffs": handoffs, "escalations": escalations,
            "handoff_outbox": outbox}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


def _escalation_dict(row: db.Escalation) -> dict[str, Any]:
    return {"id": row.id, "created_at": _iso(row.created_at), "crisis_type": row.crisis_type,
            "detected_by": row.detected_by, "pattern": row.pattern, "channel": row.channel,
            "country": row.country, "sent": row.sent, "handoff_offered": row.handoff_offered,
            "handoff_answer": row.handoff_answer, "answered_at": _iso(row.answered_at),
            "message_text": row.message_text}
