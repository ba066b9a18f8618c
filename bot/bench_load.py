"""HTTP load for `make bench`: the same messages sent to /model/parse and the REST webhook.

aiohttp (a Rasa dependency) keeps the client light: it shares the machine's cores with
the servers it measures, so a thread per request would cost the servers time.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable

import aiohttp

Progress = Callable[[int, int], None]


async def _post(session: aiohttp.ClientSession, url: str, payload: dict) -> float:
    start = time.perf_counter()
    async with session.post(url, json=payload) as resp:
        await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{url.split('?')[0]} answered {resp.status}")
    return (time.perf_counter() - start) * 1000


async def _run(url: str, lanes: list[list[dict]],
               progress: Progress | None) -> tuple[list[float], float]:
    """Each lane is sent in order, one request at a time; the lanes run at once."""
    timeout = aiohttp.ClientTimeout(total=120)
    latencies: list[float] = []
    total = sum(len(lane) for lane in lanes)

    async def worker(session: aiohttp.ClientSession, lane: list[dict]) -> None:
        for payload in lane:
            latencies.append(await _post(session, url, payload))
            if progress:
                progress(len(latencies), total)

    connector = aiohttp.TCPConnector(limit=len(lanes))
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        start = time.perf_counter()
        await asyncio.gather(*(worker(session, lane) for lane in lanes))
        wall = time.perf_counter() - start
    return latencies, wall


def parse_load(base_url: str, token: str, texts: list[str],
               progress: Progress | None = None) -> tuple[list[float], float]:
    """Sequential /model/parse calls; returns (latencies in ms, wall seconds)."""
    url = f"{base_url}/model/parse?token={token}"
    return asyncio.run(_run(url, [[{"text": t} for t in texts]], progress))


def conversation_lanes(texts: list[str], concurrency: int,
                       turns: int = 8) -> list[list[dict]]:
    """Webhook messages for `concurrency` lanes. Each lane is a series of conversations
    (random sender ids) of `turns` messages, so trackers grow as in real use, and no two
    lanes share a conversation (Rasa would queue them behind its conversation lock)."""
    lanes: list[list[dict]] = [[] for _ in range(concurrency)]
    for i, text in enumerate(texts):
        lanes[i % concurrency].append({"message": text})
    for lane in lanes:
        sender = ""
        for j, payload in enumerate(lane):
            if j % turns == 0:
                sender = secrets.token_hex(16)
            payload["sender"] = sender
    return [lane for lane in lanes if lane]


def webhook_load(base_url: str, texts: list[str], concurrency: int,
                 progress: Progress | None = None) -> tuple[list[float], float]:
    """REST webhook messages, `concurrency` conversations in flight at once."""
    lanes = conversation_lanes(texts, concurrency)
    return asyncio.run(_run(f"{base_url}/webhooks/rest/webhook", lanes, progress))
