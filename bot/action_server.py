"""The action server, accepting calls only from the Rasa server.

rasa_sdk's own server (``python -m rasa_sdk``) listens on every interface, allows every
CORS origin and has no authentication. This one builds the same Sanic app
(``rasa_sdk.endpoint.create_app``) and adds a check before every request except
``/health``:

* with ACTION_SERVER_TOKEN set, the caller must send it (``Authorization: Bearer <token>``,
  which the Rasa server does from ``var/endpoints.yml``, or ``?token=``);
* without a token, only loopback callers are served, and it listens on ACTION_HOST
  (127.0.0.1 by default).

Refusals are 401 (wrong or missing token) and 403 (not loopback), with no detail.

    python -m bot.action_server [--port 5055]
"""

from __future__ import annotations

import argparse
import hmac
import ipaddress
import logging

from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import Settings, load_settings

logger = logging.getLogger(__name__)
OPEN_PATHS = {"/health"}


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


def token_of(request: Request) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.args.get("token", "")


def refusal(request: Request, token: str) -> HTTPResponse | None:
    """None if the caller may use the action server, else the refusal to send."""
    if request.path in OPEN_PATHS:
        return None
    if token:
        if hmac.compare_digest(token_of(request).encode(), token.encode()):
            return None
        return response.json({"error": "unauthorised"}, status=401)
    if is_loopback(request.ip):
        return None
    return response.json({"error": "forbidden"}, status=403)


def build_app(settings: Settings) -> Sanic:
    """rasa_sdk's app for the ``actions`` package, no CORS, with the caller check."""
    app = create_app("actions", cors_origins="")
    token = settings.action_server_token

    @app.on_request
    async def only_the_rasa_server(request: Request) -> HTTPResponse | None:
        refused = refusal(request, token)
        if refused is not None:
            logger.warning("action server refused a call to %s from %s (%s)",
                           request.path, request.ip, refused.status)
        return refused

    return app


def main(argv: list[str] | None = None) -> None:
    settings = load_settings()
    parser = argparse.ArgumentParser(prog="python -m bot.action_server")
    parser.add_argument("--port", type=int, default=settings.action_port)
    parser.add_argument("--host", default=settings.action_host)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)-8s %(name)s - %(message)s")
    if not settings.action_server_token and not is_loopback(args.host):
        logger.warning("ACTION_HOST %s without ACTION_SERVER_TOKEN: only loopback callers "
                       "will be served", args.host)
    # access_log off: request lines carry nothing useful and could carry a ?token=.
    build_app(settings).run(host=args.host, port=args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
