"""Tell the helpline's system that a parent is waiting for a counsellor.

A POST of a small JSON payload to HELPLINE_WEBHOOK_URL, signed with HMAC-SHA256 over the
exact body bytes (header ``X-Signature-256: sha256=<hex>``, like GitHub's webhooks) so the
helpline can tell it came from us. Retried with exponential backoff; the caller records the
outcome and tells the parent plainly when it failed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any

import requests

from bot.settings import Settings

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Signature-256"


def sign(secret: str, body: bytes) -> str:
    """The signature header value for a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """What the helpline's side does (used by the tests' stand-in helpline)."""
    return bool(header) and hmac.compare_digest(sign(secret, body), header or "")


def payload(handoff: dict[str, Any], settings: Settings, summary: str) -> dict[str, Any]:
    """What the helpline is told: enough to pick the conversation up, no message text."""
    return {
        "event": "handoff.requested",
        "handoff_id": handoff["id"],
        "conversation_id": handoff["conversation_id"],
        "crisis_type": handoff.get("crisis_type"),
        "reason": handoff.get("reason"),
        "channel": handoff.get("channel"),
        "country": handoff.get("country"),
        "created_at": handoff.get("created_at"),
        "summary": summary,
        "console_url": f"{settings.public_url}/webhooks/counsellor/#handoff={handoff['id']}",
    }


@dataclass
class Delivery:
    delivered: bool
    attempts: int
    error: str | None = None


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    return requests.post(url, data=body, headers=headers, timeout=5).status_code


async def notify(settings: Settings, data: dict[str, Any]) -> Delivery:
    """POST the payload, retrying with backoff (0.5 s, 1 s, 2 s, ... by default)."""
    body = json.dumps(data, sort_keys=True).encode()
    headers = {"Content-Type": "application/json",
               SIGNATURE_HEADER: sign(settings.helpline_webhook_secret, body)}
    error = None
    for attempt in range(1, settings.helpline_webhook_retries + 1):
        try:
            status = await asyncio.to_thread(_post, settings.helpline_webhook_url, body, headers)
            if 200 <= status < 300:
                return Delivery(True, attempt)
            error = f"HTTP {status}"
        except requests.RequestException as exc:
            error = type(exc).__name__
        logger.warning("helpline webhook attempt %d failed: %s", attempt, error)
        if attempt < settings.helpline_webhook_retries:
            await asyncio.sleep(settings.helpline_webhook_backoff * 2 ** (attempt - 1))
    return Delivery(False, settings.helpline_webhook_retries, error)
