"""One switch (issue 7, item 1): no settings -> SQLite + in-memory lock store, no broker;
PostgreSQL + Redis URLs -> Rasa's SQL tracker store on PostgreSQL and its Redis lock
store; EVENT_BROKER_URL -> Rasa's Pika broker. Checked in the endpoints file Rasa reads."""

from __future__ import annotations

import pytest
import yaml

from bot import launcher
from bot.settings import load_settings

VARS = ("DATABASE_URL", "REDIS_URL", "LOCK_STORE_URL", "REDIS_KEY_PREFIX", "EVENT_BROKER_URL",
        "EVENT_BROKER_QUEUE")


@pytest.fixture
def endpoints(monkeypatch, tmp_path):
    monkeypatch.setattr("bot.settings.load_dotenv", lambda *a, **k: False)  # ignore a .env
    for name in VARS:
        monkeypatch.delenv(name, raising=False)

    def write(**env: str) -> dict:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        path = launcher.write_endpoints(load_settings(), tmp_path / "endpoints.yml")
        return yaml.safe_load(path.read_text())
    return write


def test_no_settings_is_embedded(endpoints):
    config = endpoints()
    assert config["tracker_store"]["dialect"] == "sqlite"
    assert "lock_store" not in config and "event_broker" not in config


def test_postgres_and_redis_scale_out(endpoints):
    config = endpoints(DATABASE_URL="postgresql://parent:s3cret@db.internal:5433/parenting",
                       REDIS_URL="redis://:pw@cache.internal:6380/3", REDIS_KEY_PREFIX="blue")
    assert config["tracker_store"] == {"type": "SQL", "dialect": "postgresql",
                                       "url": "db.internal", "db": "parenting", "port": 5433,
                                       "username": "parent", "password": "s3cret"}
    assert config["lock_store"] == {"type": "redis", "url": "cache.internal", "port": 6380,
                                    "db": 3, "password": "pw", "key_prefix": "blue"}
    assert "event_broker" not in config


def test_lock_store_url_is_an_alias(endpoints):
    config = endpoints(LOCK_STORE_URL="redis://127.0.0.1:6379/2")
    assert config["lock_store"]["db"] == 2 and config["lock_store"]["url"] == "127.0.0.1"


def test_event_broker_is_rasas_pika_broker(endpoints):
    config = endpoints(EVENT_BROKER_URL="amqp://guest:guest@127.0.0.1:5672",
                       EVENT_BROKER_QUEUE="analytics")
    assert config["event_broker"] == {"type": "pika", "url": "amqp://guest:guest@127.0.0.1:5672",
                                      "port": 5672, "username": "guest", "password": "guest",
                                      "queues": ["analytics"]}
