"""Settings from the environment (``.env`` via python-dotenv); nothing secret in code."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _counsellor_tokens(value: str) -> tuple[tuple[str, str], ...]:
    """``name:token,name2:token2`` -> ((name, token), ...); tokens shorter than 16 are ignored
    so that a placeholder like ``alice:changeme`` never opens the counsellor API."""
    pairs = []
    for item in value.split(","):
        name, _, token = item.strip().partition(":")
        if name and len(token) >= 16:
            pairs.append((name.strip(), token.strip()))
    return tuple(pairs)


@dataclass(frozen=True)
class Settings:
    """Everything the assistant reads from its environment."""

    database_url: str
    store_message_text: bool
    log_message_text: bool
    default_country: str | None
    rasa_port: int
    action_port: int
    action_url: str
    cors_origins: tuple[str, ...]
    auth_token: str
    public_url: str = "http://localhost:5005"
    helpline_webhook_url: str = ""
    helpline_webhook_secret: str = ""
    helpline_webhook_retries: int = 3
    helpline_webhook_backoff: float = 0.5
    handoff_claim_timeout: float = 120.0
    handoff_wait_minutes: int = 10
    counsellor_tokens: tuple[tuple[str, str], ...] = ()
    # Other sites allowed to open the web chat's socket (the assistant's own page always is).
    webchat_origins: tuple[str, ...] = ()
    # Scale-out: Redis lock store (REDIS_URL, alias LOCK_STORE_URL) and an optional
    # RabbitMQ event broker for analytics; empty means in-memory lock store / no broker.
    redis_url: str = ""
    redis_key_prefix: str = ""
    event_broker_url: str = ""
    event_broker_queue: str = "rasa_events"
    # Action server access: a shared token (sent by Rasa as a bearer header); without one
    # the action server listens on loopback only and refuses any other caller.
    action_server_token: str = ""
    action_host: str = "127.0.0.1"
    # Bad input: longer messages get a kind request to shorten (after a crisis check);
    # more than rate_limit_messages per rate_limit_window seconds get a kind "slow down".
    max_message_chars: int = 4000
    rate_limit_messages: int = 30
    rate_limit_window: float = 60.0
    # Retention: `python -m bot purge` deletes conversations idle for longer than this.
    retention_days: float = 30.0


def load_settings() -> Settings:
    """Read ``.env`` (if present) then the process environment."""
    load_dotenv(ROOT / ".env", override=False)
    action_port = int(os.environ.get("ACTION_PORT", "5055"))
    return Settings(
        database_url=os.environ.get("DATABASE_URL")
        or f"sqlite:///{ROOT / 'var' / 'parenting.db'}",
        store_message_text=_flag("STORE_MESSAGE_TEXT"),
        log_message_text=_flag("LOG_MESSAGE_TEXT"),
        default_country=os.environ.get("DEFAULT_COUNTRY") or None,
        rasa_port=int(os.environ.get("RASA_PORT", "5005")),
        action_port=action_port,
        action_url=os.environ.get("ACTION_ENDPOINT_URL")
        or f"http://127.0.0.1:{action_port}/webhook",
        auth_token=os.environ.get("RASA_AUTH_TOKEN", ""),
        public_url=(os.environ.get("PUBLIC_URL")
                    or f"http://localhost:{os.environ.get('RASA_PORT', '5005')}").rstrip("/"),
        helpline_webhook_url=os.environ.get("HELPLINE_WEBHOOK_URL", "").strip(),
        helpline_webhook_secret=os.environ.get("HELPLINE_WEBHOOK_SECRET", ""),
        helpline_webhook_retries=max(1, int(os.environ.get("HELPLINE_WEBHOOK_RETRIES", "3"))),
        helpline_webhook_backoff=float(os.environ.get("HELPLINE_WEBHOOK_BACKOFF", "0.5")),
        handoff_claim_timeout=float(os.environ.get("HANDOFF_CLAIM_TIMEOUT", "120")),
        handoff_wait_minutes=int(os.environ.get("HANDOFF_WAIT_MINUTES", "10")),
        counsellor_tokens=_counsellor_tokens(os.environ.get("COUNSELLOR_TOKENS", "")),
        cors_origins=tuple(
            o.strip() for o in os.environ.get("CORS_ORIGINS", "http://localhost").split(",")
            if o.strip()
        ),
        webchat_origins=tuple(
            o.strip() for o in os.environ.get("WEBCHAT_ORIGINS", "").split(",") if o.strip()
        ),
        redis_url=(os.environ.get("REDIS_URL") or os.environ.get("LOCK_STORE_URL") or "").strip(),
        redis_key_prefix=os.environ.get("REDIS_KEY_PREFIX", "").strip(),
        event_broker_url=os.environ.get("EVENT_BROKER_URL", "").strip(),
        event_broker_queue=os.environ.get("EVENT_BROKER_QUEUE", "").strip() or "rasa_events",
        action_server_token=os.environ.get("ACTION_SERVER_TOKEN", "").strip(),
        action_host=os.environ.get("ACTION_HOST", "").strip() or "127.0.0.1",
        max_message_chars=max(100, int(os.environ.get("MAX_MESSAGE_CHARS") or "4000")),
        rate_limit_messages=max(1, int(os.environ.get("RATE_LIMIT_MESSAGES") or "30")),
        rate_limit_window=float(os.environ.get("RATE_LIMIT_WINDOW") or "60"),
        retention_days=float(os.environ.get("RETENTION_DAYS") or "30"),
    )
