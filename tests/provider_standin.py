"""A stand-in for Telegram's Bot API and Twilio's Messages API on 127.0.0.1, so the real
connector clients (aiogram, twilio-python) send to something that answers like the
provider, records what it was sent, and can be told to fail."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


def _form(content_type: str, body: bytes) -> dict[str, str]:
    """urlencoded or multipart form fields (aiogram uses either)."""
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        return {part.get_param("name", header="content-disposition"):
                part.get_content() for part in message.iter_parts()}
    if content_type.startswith("application/json"):
        return {k: v if isinstance(v, str) else json.dumps(v)
                for k, v in json.loads(body or b"{}").items()}
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}


@dataclass
class Sent:
    provider: str  # "telegram" or "twilio"
    method: str  # Telegram method or "Messages"
    fields: dict[str, str]
    status: int


@dataclass
class Standin:
    port: int = 0
    requests: list[Sent] = field(default_factory=list)
    fail_next: int = 0  # answer this many upcoming sends with HTTP 500
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def messages(self, provider: str, to: str | None = None) -> list[dict[str, str]]:
        """Delivered (accepted) messages, oldest first."""
        method = "sendMessage" if provider == "telegram" else "Messages"
        key = "chat_id" if provider == "telegram" else "To"
        with self.lock:
            return [s.fields for s in self.requests if s.provider == provider
                    and s.method == method and s.status < 300
                    and (to is None or s.fields.get(key) == to)]

    def calls(self, provider: str, method: str) -> list[Sent]:
        with self.lock:
            return [s for s in self.requests if s.provider == provider and s.method == method]

    def wait_for(self, provider: str, to: str, count: int, timeout: float = 60) -> list[dict]:
        """Messages to one recipient, once at least ``count`` have arrived."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = self.messages(provider, to)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        return self.messages(provider, to)

    def start(self) -> Standin:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _reply(self, status: int, payload: Any) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                fields = _form(self.headers.get("Content-Type", ""), self.rfile.read(length))
                parts = self.path.split("?")[0].strip("/").split("/")
                provider = parts[0]
                method = parts[-1].removesuffix(".json")
                with standin.lock:
                    failing = standin.fail_next > 0 and method in ("sendMessage", "Messages")
                    if failing:
                        standin.fail_next -= 1
                    standin.requests.append(Sent(provider, method, fields,
                                                 500 if failing else 200))
                    count = len(standin.requests)
                if provider == "telegram":
                    if failing:
                        return self._reply(500, {"ok": False, "error_code": 500,
                                                 "description": "Internal Server Error"})
                    if method == "sendMessage":
                        return self._reply(200, {"ok": True, "result": {
                            "message_id": count, "date": int(time.time()),
                            "chat": {"id": int(fields["chat_id"]), "type": "private"},
                            "text": fields.get("text", "")}})
                    return self._reply(200, {"ok": True, "result": True})
                if failing:
                    return self._reply(500, {"code": 20500, "status": 500,
                                             "message": "Internal Server Error"})
                return self._reply(201, {
                    "sid": f"SM{count:032d}", "account_sid": parts[3], "to": fields.get("To"),
                    "from": fields.get("From"), "body": fields.get("Body"), "status": "queued",
                    "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
                    "date_created": None, "date_updated": None, "date_sent": None,
                    "uri": self.path})

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
