"""Start the real action server and Rasa server as processes for end-to-end tests."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import requests

from bot import launcher
from bot.credentials import write_credentials
from bot.settings import ROOT, load_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Servers:
    rasa_url: str
    action_url: str
    token: str
    database_url: str
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    tmp: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def send(self, sender: str, message: str, timeout: float = 60) -> list[dict]:
        resp = requests.post(f"{self.rasa_url}/webhooks/rest/webhook",
                             json={"sender": sender, "message": message}, timeout=timeout)
        resp.raise_for_status()
        return resp.json()

    def stop(self, name: str) -> None:
        proc = self.procs.get(name)
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)


def restart(old: Servers) -> Servers:
    """Stop both servers and start them again on the same database and ports."""
    old.stop_all()
    rasa_port = int(old.rasa_url.rsplit(":", 1)[1])
    action_port = int(old.action_url.rsplit(":", 1)[1])
    return start(old.tmp, old.extra_env, ports=(rasa_port, action_port), token=old.token)


def start(tmp: Path, extra_env: dict[str, str] | None = None,
          ports: tuple[int, int] | None = None, token: str | None = None) -> Servers:
    rasa_port, action_port = ports or (free_port(), free_port())
    token = token or secrets.token_hex(16)
    db_url = f"sqlite:///{tmp / 'e2e.db'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": db_url,
           "ACTION_PORT": str(action_port), "RASA_PORT": str(rasa_port),
           "RASA_AUTH_TOKEN": token, "TF_CPP_MIN_LOG_LEVEL": "2",
           "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
           **(extra_env or {})}
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "ACTION_PORT", "RASA_PORT",
                                           "ACTION_ENDPOINT_URL", "RASA_AUTH_TOKEN")})
    with mock.patch.dict(os.environ, env):  # extra_env too (e.g. ACTION_SERVER_TOKEN)
        settings = load_settings()
    endpoints = launcher.write_endpoints(settings, tmp / "endpoints.yml")
    logs = tmp / "logs"
    logs.mkdir(exist_ok=True)
    servers = Servers(f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{action_port}",
                      token, db_url, tmp=tmp, extra_env=dict(extra_env or {}))
    servers.procs["actions"] = subprocess.Popen(
        launcher.action_server_cmd(settings), cwd=ROOT, env=env,
        stdout=open(logs / "actions.log", "a"), stderr=subprocess.STDOUT)
    servers.procs["rasa"] = subprocess.Popen(
        launcher.rasa_server_cmd(settings, endpoints, port=rasa_port,
                                 credentials=write_credentials(tmp / "credentials.yml", env)),
        cwd=ROOT, env=env,
        stdout=open(logs / "rasa.log", "a"), stderr=subprocess.STDOUT)
    ok = launcher.wait_for(servers.action_url + "/health", 120) and \
        launcher.wait_for(servers.rasa_url + "/", 240)
    if ok:  # the model loads after the port opens: wait until it answers
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if env["RASA_AUTH_TOKEN"]:
                    if requests.get(servers.rasa_url + "/status", timeout=5,
                                    params={"token": token}).json().get("model_file"):
                        break
                elif servers.send("warm-up-" + secrets.token_hex(8), "hello", timeout=10):
                    break  # the HTTP API is off: a first reply means the model is there
            except (requests.RequestException, ValueError):
                pass
            time.sleep(1)
    if not ok:
        servers.stop_all()
        raise RuntimeError(f"servers did not start; see {logs}")
    return servers
