"""Several Rasa processes and action servers on one shared PostgreSQL + Redis, started as
real processes: what `make load` and the scale-out tests run against.

Each node is one ``rasa run`` with its own action server (a load balancer in front of
several action servers works the same: they keep no state). A private PostgreSQL
database (unique name, dropped afterwards) and a unique Redis key prefix keep a run away
from other users of the same servers.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot import launcher
from bot.settings import ROOT, Settings, load_settings

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/14"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def admin_url() -> str:
    """Where private databases are created: SCALE_ADMIN_DATABASE_URL, else the
    PostgreSQL server of DATABASE_URL, else the local one."""
    load_settings()  # reads .env
    url = os.environ.get("SCALE_ADMIN_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    if url.startswith("postgresql"):
        return str(make_url(url).set(database="postgres"))
    return ADMIN_URL


@contextmanager
def private_database(prefix: str = "parenting_scale") -> Iterator[str]:
    """A new, uniquely named PostgreSQL database for one run; dropped afterwards."""
    admin = create_engine(admin_url(), isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    name = f"{prefix}_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield str(make_url(admin_url()).set(database=name))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def services_missing() -> str | None:
    """Why PostgreSQL/Redis cannot be used here, or None when both answer."""
    try:
        engine = create_engine(admin_url())
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure means "absent"
        return f"PostgreSQL not reachable ({type(error).__name__})"
    import redis

    try:
        redis.Redis.from_url(os.environ.get("SCALE_REDIS_URL", REDIS_URL),
                             socket_timeout=3).ping()
    except Exception as error:  # noqa: BLE001
        return f"Redis not reachable ({type(error).__name__})"
    return None


@dataclass
class Node:
    """One Rasa process and its action server."""

    settings: Settings
    env: dict[str, str]
    endpoints: Path
    logs: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.action_port}"

    def start_actions(self) -> None:
        self.procs["actions"] = subprocess.Popen(
            launcher.action_server_cmd(self.settings), cwd=ROOT, env=self.env,
            stdout=open(self.logs / "actions.log", "a"), stderr=subprocess.STDOUT)

    def start_rasa(self) -> None:
        self.procs["rasa"] = subprocess.Popen(
            launcher.rasa_server_cmd(self.settings, self.endpoints), cwd=ROOT, env=self.env,
            stdout=open(self.logs / "rasa.log", "a"), stderr=subprocess.STDOUT)

    def kill(self, name: str) -> None:
        """SIGKILL: a crash, not a clean shutdown."""
        proc = self.procs.get(name)
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=20)

    def stop(self) -> None:
        launcher.stop_processes(list(self.procs.values()))

    def wait_actions(self, timeout: float = 120) -> bool:
        return launcher.wait_for(self.action_url + "/health", timeout)

    def wait_rasa(self, timeout: float = 300) -> bool:
        """Until the model is loaded (the port opens before that)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.procs["rasa"].poll() is not None:
                return False
            try:
                status = requests.get(self.rasa_url + "/status", timeout=5,
                                      params={"token": self.settings.auth_token})
                if status.ok and status.json().get("model_file"):
                    return True
            except (requests.RequestException, ValueError):
                pass
            time.sleep(1)
        return False


@dataclass
class Cluster:
    nodes: list[Node]
    database_url: str
    token: str

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def start_cluster(tmp: Path, size: int, database_url: str, *,
                  rasa_database_url: str | None = None, redis_url: str = "",
                  redis_key_prefix: str = "", event_broker_url: str = "",
                  event_broker_queue: str = "rasa_events",
                  extra_env: dict[str, str] | None = None) -> Cluster:
    """``size`` Rasa processes + action servers on one database, started in parallel.

    ``rasa_database_url`` lets the processes reach the database another way (a proxy
    that a test can cut) while tables are prepared and checked directly.
    """
    token = secrets.token_hex(16)
    base = dataclasses.replace(
        load_settings(), database_url=rasa_database_url or database_url,
        redis_url=redis_url or os.environ.get("SCALE_REDIS_URL", REDIS_URL),
        redis_key_prefix=redis_key_prefix or f"scale{secrets.token_hex(4)}",
        event_broker_url=event_broker_url, event_broker_queue=event_broker_queue,
        auth_token=token, log_message_text=False)
    launcher.prepare_database(dataclasses.replace(base, database_url=database_url))
    nodes = []
    for index in range(size):
        rasa_port, action_port = free_port(), free_port()
        settings = dataclasses.replace(
            base, rasa_port=rasa_port, action_port=action_port,
            action_url=f"http://127.0.0.1:{action_port}/webhook")
        folder = tmp / f"node{index}"
        folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2",
               "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
               "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
               "LOCK_STORE_URL": "", "REDIS_KEY_PREFIX": settings.redis_key_prefix,
               "EVENT_BROKER_URL": event_broker_url, "EVENT_BROKER_QUEUE": event_broker_queue,
               "RASA_PORT": str(rasa_port), "ACTION_PORT": str(action_port),
               "ACTION_ENDPOINT_URL": settings.action_url, "RASA_AUTH_TOKEN": token,
               "LOG_MESSAGE_TEXT": "false",
               # a few connections per process: several processes share PostgreSQL
               "SQL_POOL_SIZE": os.environ.get("SQL_POOL_SIZE", "5"),
               "SQL_MAX_OVERFLOW": os.environ.get("SQL_MAX_OVERFLOW", "10"),
               **(extra_env or {})}
        node = Node(settings, env, launcher.write_endpoints(settings, folder / "endpoints.yml"),
                    folder)
        node.start_actions()
        node.start_rasa()
        nodes.append(node)
    cluster = Cluster(nodes, database_url, token)
    if not all(node.wait_actions() and node.wait_rasa() for node in nodes):
        cluster.stop()
        raise RuntimeError(f"the cluster did not start; see the logs in {tmp}")
    return cluster


def forget_redis_keys(settings: Settings) -> None:
    """Remove what a run left under its private Redis key prefix (locks expire anyway)."""
    import redis

    if not settings.redis_url or not settings.redis_key_prefix:
        return
    client = redis.Redis.from_url(settings.redis_url)
    keys = list(client.scan_iter(f"{settings.redis_key_prefix}:*"))
    if keys:
        client.delete(*keys)
