"""``python -m bot purge`` and ``python -m bot export``: retention and export from the shell."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from bot import conversation_data
from bot.settings import load_settings


def purge(older_than: str | None) -> int:
    """Delete what is older than the retention period; prints what was done (no text)."""
    settings = load_settings()
    try:
        age = (conversation_data.parse_age(older_than) if older_than
               else dt.timedelta(days=settings.retention_days))
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    done = conversation_data.purge(settings.database_url, age)
    print(f"purged conversations idle for more than {age}: "
          + ", ".join(f"{key} {value}" for key, value in done.items()))
    counts = conversation_data.escalation_counts(settings.database_url)
    print("escalations kept (anonymous counts): "
          + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"))
    return 0


def export(sender_id: str, out: str | None) -> int:
    """One conversation (events, handoffs, escalations, counsellor messages) as JSON."""
    data = conversation_data.export(load_settings().database_url, sender_id)
    if not (data["events"] or data["handoffs"] or data["escalations"]):
        print(f"no conversation {sender_id!r} is stored", file=sys.stderr)
        return 1
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
        print(f"wrote {len(data['events'])} events to {out}", file=sys.stderr)
    else:
        print(text)
    return 0
