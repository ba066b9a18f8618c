"""Getting a counsellor's words to the parent, on the parent's own channel, and keeping
them in the conversation's tracker so nothing is lost across restarts.

Channels that can push (socket.io web chat, Telegram, Twilio) are sent to at once through
the channel's own output channel; the REST channel cannot push, so the message waits in
the database outbox and goes out with the reply to the parent's next message.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.channels.channel import OutputChannel
from rasa.shared.core.events import BotUttered, ConversationResumed
from rasa.shared.core.trackers import DialogueStateTracker

from bot import db
from bot.settings import load_settings

logger = logging.getLogger(__name__)
MAX_TRANSCRIPT = 200


def output_channel_for(app: Any, channel: str | None) -> OutputChannel | None:
    """The running input channel's own output channel, if it can push messages."""
    for input_channel in getattr(app.ctx, "input_channels", None) or []:
        if input_channel.name() == channel:
            try:
                return input_channel.get_output_channel()
            except Exception:  # a connector without push support
                logger.exception("channel %s cannot push messages", channel)
                return None
    return None


def transcript(tracker: DialogueStateTracker | None) -> list[dict[str, Any]]:
    """The conversation as the counsellor reads it: who said what, and when."""
    if tracker is None:
        return []
    lines: list[dict[str, Any]] = []
    for event in tracker.events:
        if event.type_name == "user" and event.text is not None:
            lines.append({"from": "parent", "text": event.text, "time": event.timestamp,
                          "intent": (event.intent or {}).get("name")})
        elif event.type_name == "bot" and event.text:
            who = "counsellor" if (event.metadata or {}).get("counsellor") else "assistant"
            lines.append({"from": who, "text": event.text, "time": event.timestamp,
                          **({"counsellor": event.metadata["counsellor"]}
                             if who == "counsellor" else {})})
    return lines[-MAX_TRANSCRIPT:]


async def send_to_parent(app: Any, agent: Any, handoff: dict[str, Any], text: str,
                         counsellor: str | None, resume: bool = False) -> str:
    """Append the message to the tracker and deliver it; returns 'pushed', 'queued' or
    'opted_out' (an SMS number that replied STOP: kept in the transcript, not sent).

    With ``resume`` the conversation is handed back to the assistant in the same step.
    """
    sender_id = handoff["conversation_id"]
    out = output_channel_for(app, handoff.get("channel"))
    async with agent.lock_store.lock(sender_id):
        tracker = await agent.tracker_store.retrieve(sender_id)
        if tracker is None:
            tracker = DialogueStateTracker(sender_id, agent.domain.slots)
        if resume:
            tracker.update(ConversationResumed())
        metadata = {"counsellor": counsellor} if counsellor else {"handoff": "reentry"}
        tracker.update(BotUttered(text, metadata=metadata))
        await agent.tracker_store.save(tracker)
    if out is not None:
        if not getattr(out, "can_reach", lambda _recipient: True)(sender_id):
            logger.info("handoff %s: the parent opted out of messages; not sent", handoff["id"])
            return "opted_out"
        try:
            await out.send_text_message(sender_id, text)
            return "pushed"
        except Exception:
            logger.exception("push to the parent's channel failed; queueing instead")
    db.queue_outbox(load_settings().database_url, handoff["id"], sender_id, text)
    return "queued"
