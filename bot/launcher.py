"""Start the action server and the Rasa server as processes, configured from ``.env``.

Rasa expands ``${VAR}`` in endpoints.yml and fails on unset variables, so the endpoints
file is written from the settings at start-up (``var/endpoints.yml``) instead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import requests
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.credentials import write_credentials
from bot.settings import ROOT, Settings, load_settings

VENV_BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "parenting.tar.gz"


def tracker_store_config(settings: Settings) -> dict:
    """Rasa's SQLTrackerStore settings for the configured database URL."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        db = url.database or str(ROOT / "var" / "parenting.db")
        return {"type": "SQL", "dialect": "sqlite", "db": db}
    config = {"type": "SQL", "dialect": url.drivername, "url": url.host or "127.0.0.1",
              "db": url.database}
    if url.port:
        config["port"] = url.port
    if url.username:
        config["username"] = url.username
    if url.password:
        config["password"] = url.password
    return config


def lock_store_config(settings: Settings) -> dict | None:
    """Rasa's RedisLockStore from REDIS_URL (alias LOCK_STORE_URL); None: in-memory."""
    if not settings.redis_url:
        return None
    url = make_url(settings.redis_url)
    config: dict = {"type": "redis", "url": url.host or "127.0.0.1", "port": url.port or 6379,
                    "db": int(url.database or 1)}
    if url.password:
        config["password"] = url.password
    if settings.redis_key_prefix:  # Rasa accepts letters and digits only
        config["key_prefix"] = settings.redis_key_prefix
    return config


def event_broker_config(settings: Settings) -> dict | None:
    """Rasa's Pika (RabbitMQ) event broker from EVENT_BROKER_URL; None: no broker."""
    if not settings.event_broker_url:
        return None
    url = urlsplit(settings.event_broker_url)
    # The amqp:// URL itself goes to Rasa (it keeps a virtual host in the path).
    return {"type": "pika", "url": settings.event_broker_url, "port": url.port or 5672,
            "username": unquote(url.username or "guest"),
            "password": unquote(url.password or "guest"),
            "queues": [settings.event_broker_queue]}


def write_endpoints(settings: Settings, path: Path | None = None) -> Path:
    """Write the endpoints file Rasa reads: action server, tracker store, and (when
    configured) Redis lock store and RabbitMQ event broker."""
    path = path or ROOT / "var" / "endpoints.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    endpoints: dict = {
        "action_endpoint": {"url": settings.action_url},
        "tracker_store": tracker_store_config(settings),
    }
    lock = lock_store_config(settings)
    if lock:
        endpoints["lock_store"] = lock
    broker = event_broker_config(settings)
    if broker:
        endpoints["event_broker"] = broker
    if settings.action_server_token:  # the action server refuses calls without it
        endpoints["action_endpoint"]["headers"] = {
            "Authorization": f"Bearer {settings.action_server_token}"}
    path.write_text(yaml.safe_dump(endpoints, sort_keys=False), encoding="utf-8")
    return path


def prepare_database(settings: Settings) -> None:
    """Create the PostgreSQL database if missing, and every table (the project's and
    Rasa's ``events``) once, before several processes start and would race to do it."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "postgresql":
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                  {"name": url.database}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
        admin.dispose()
    from rasa.core.tracker_store import SQLTrackerStore

    from bot import db

    engine = db.engine_for(settings.database_url)  # creates the project's tables
    SQLTrackerStore.Base.metadata.create_all(engine)


def action_server_cmd(settings: Settings) -> list[str]:
    """rasa_sdk's server behind a caller check (bot/action_server.py)."""
    return [str(VENV_BIN / "python"), "-m", "bot.action_server",
            "--port", str(settings.action_port), "--host", settings.action_host]


def rasa_server_cmd(settings: Settings, endpoints: Path, port: int | None = None,
                    credentials: Path | None = None, model: Path | None = None) -> list[str]:
    """``credentials``: the channels file (default: written next to the endpoints file from
    credentials.yml, with only the channels whose variables are set)."""
    credentials = credentials or write_credentials(endpoints.parent / "credentials.yml")
    cmd = [str(VENV_BIN / "rasa"), "run", "--model", str(model or MODEL),
           "--endpoints", str(endpoints),
           "--credentials", str(credentials), "--port",
           str(port or settings.rasa_port), "--cors", *settings.cors_origins]
    if settings.auth_token:
        cmd += ["--enable-api", "--auth-token", settings.auth_token]
    # Rasa's debug log holds message text: only when LOG_MESSAGE_TEXT asks for it.
    if settings.log_message_text:
        cmd.append("--debug")
    return cmd


def wait_for(url: str, timeout: float = 180.0) -> bool:
    """Poll a URL until it answers 200 (servers take a while to load the model)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(1)
    return False


def messaging_lines(settings: Settings) -> str:
    """Where Telegram and Twilio reach the assistant, or which variables switch them on."""
    lines = ""
    if os.environ.get("TELEGRAM_TOKEN") and os.environ.get("TELEGRAM_SECRET_TOKEN"):
        lines += f"  Telegram: webhook {settings.public_url}/webhooks/telegram/webhook\n"
    else:
        lines += "  Telegram: off (TELEGRAM_TOKEN, TELEGRAM_BOT_NAME, TELEGRAM_SECRET_TOKEN)\n"
    if os.environ.get("TWILIO_ACCOUNT_SID") and os.environ.get("TWILIO_AUTH_TOKEN"):
        lines += (f"  SMS/WhatsApp: point Twilio at "
                  f"{settings.public_url}/webhooks/twilio/webhook\n")
    else:
        lines += "  SMS/WhatsApp: off (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_NUMBER)\n"
    return lines


def stop_processes(procs: list[subprocess.Popen], sig: int = signal.SIGTERM,
                   timeout: float = 20) -> None:
    """Signal every process still running first, then wait for each (killing laggards), so
    that the servers shut down side by side instead of one after the other."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(sig)
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()


def run() -> int:
    """`make run`: both servers in the foreground until Ctrl-C."""
    settings = load_settings()
    endpoints = write_endpoints(settings)
    prepare_database(settings)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    actions = subprocess.Popen(action_server_cmd(settings), cwd=ROOT, env=env)
    rasa = subprocess.Popen(rasa_server_cmd(settings, endpoints), cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{settings.rasa_port}"
    try:
        if wait_for(base + "/"):
            print(
                "\nThe assistant is running.\n"
                f"  Chat in a browser: {base}/webhooks/chat/\n"
                f"  Counsellor console: {base}/webhooks/counsellor/ (COUNSELLOR_TOKENS in .env)\n"
                f"  Chat (REST):  curl -s -X POST {base}/webhooks/rest/webhook "
                "-H 'Content-Type: application/json' "
                "-d '{\"sender\": \"<a long random id>\", \"message\": \"hi\"}'\n"
                "  Chat in a terminal: make shell\n"
                f"{messaging_lines(settings)}"
                "  Stop: Ctrl-C\n",
                flush=True,
            )
        rasa.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop_processes([rasa, actions], signal.SIGINT, timeout=15)
    return 0


def shell() -> int:
    """`make shell`: chat in the terminal (the action server runs alongside)."""
    settings = load_settings()
    endpoints = write_endpoints(settings)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    actions = subprocess.Popen(action_server_cmd(settings), cwd=ROOT, env=env)
    try:
        wait_for(f"http://127.0.0.1:{settings.action_port}/health", timeout=60)
        return subprocess.call([str(VENV_BIN / "rasa"), "shell", "--model", str(MODEL),
                                "--endpoints", str(endpoints)], cwd=ROOT, env=env)
    finally:
        actions.terminate()
        actions.wait(timeout=15)


def actions_only() -> int:
    settings = load_settings()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.call(action_server_cmd(settings), cwd=ROOT, env=env)
