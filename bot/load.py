"""`make load`: many parents at once through two Rasa processes, then a check that every
conversation is whole and in order in the tracker store.

Starts ``--processes`` Rasa processes (each with its action server) on a private
PostgreSQL database and a private Redis key prefix, drives ``--conversations``
concurrent conversations of ``--messages`` messages through the REST channel, each
message of a conversation going to the next process in turn, and then reads the
``events`` table: every user message and every bot reply must be there, in the order the
parent saw them. Prints messages/s, latency percentiles, errors, lost and misordered
events; exits 1 unless errors, lost and misordered are all zero.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from sqlalchemy import create_engine, text

from bot.settings import ROOT
from bot.store_outage import outage_text

MESSAGES = Path(__file__).with_name("load_messages.yml")


@dataclass
class Turn:
    """One message sent and what the parent got back."""

    text: str
    node: int
    latency_ms: float = 0.0
    status: int = 0
    replies: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def kept(self) -> bool:
        """Answered normally, so the turn must be in the tracker store."""
        return self.status == 200 and not self.error and outage_text() not in self.replies


@dataclass
class Conversation:
    sender: str
    turns: list[Turn] = field(default_factory=list)


def script(index: int, length: int, rng: random.Random) -> list[str]:
    """A plausible conversation: concerns and follow-ups, a crisis in every tenth."""
    corpus = yaml.safe_load(MESSAGES.read_text(encoding="utf-8"))
    messages = [rng.choice(corpus["openers"])]
    while len(messages) < length:
        pool = corpus["followups"] if rng.random() < 0.6 else corpus["openers"]
        messages.append(rng.choice(pool))
    if index % 10 == 3 and length > 2:
        messages[rng.randrange(1, length)] = rng.choice(corpus["crisis"])
    return messages


def reply_texts(replies: list[dict]) -> list[str]:
    return [r["text"] for r in replies if isinstance(r, dict) and r.get("text")]


async def send(session: aiohttp.ClientSession, url: str, sender: str, turn: Turn,
               timeout: float) -> None:
    start = time.perf_counter()
    try:
        async with session.post(f"{url}/webhooks/rest/webhook",
                                json={"sender": sender, "message": turn.text},
                                timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            turn.status = resp.status
            if resp.status == 200:
                turn.replies = reply_texts(await resp.json())
            else:
                turn.error = f"HTTP {resp.status}"
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        turn.error = type(error).__name__
    turn.latency_ms = (time.perf_counter() - start) * 1000


async def converse(session: aiohttp.ClientSession, urls: list[str], conv: Conversation,
                   messages: list[str], offset: int, timeout: float,
                   pause: float = 0.0) -> None:
    """Send one conversation's messages in order, alternating between processes."""
    for number, message in enumerate(messages):
        node = (offset + number) % len(urls)
        turn = Turn(message, node)
        conv.turns.append(turn)
        await send(session, urls[node], conv.sender, turn, timeout)
        if pause:
            await asyncio.sleep(pause)


async def drive(urls: list[str], conversations: int, messages: int, seed: int = 7,
                timeout: float = 180.0) -> tuple[list[Conversation], float]:
    """All conversations at once; returns them and the wall time in seconds."""
    rng = random.Random(seed)
    convs = [Conversation(secrets.token_hex(16)) for _ in range(conversations)]
    scripts = [script(i, messages, rng) for i in range(conversations)]
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        await asyncio.gather(*(converse(session, urls, conv, msgs, i, timeout)
                               for i, (conv, msgs) in enumerate(zip(convs, scripts))))
        return convs, time.perf_counter() - start


def stored_sequence(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The events table as the parent saw it: user texts and bot texts, split the way
    Rasa's output channels split a response into messages."""
    seq = []
    for type_name, data in rows:
        event = json.loads(data)
        if type_name == "user":
            seq.append(("user", (event.get("text") or "").strip()))
        elif type_name == "bot" and event.get("text"):
            body = event["text"]
            if (event.get("data") or {}).get("buttons"):
                seq.append(("bot", body))
            else:
                seq.extend(("bot", part) for part in body.strip().split("\n\n"))
    return seq


def expected_sequence(conv: Conversation) -> list[tuple[str, str]]:
    seq = []
    for turn in conv.turns:
        if turn.kept:
            seq.append(("user", turn.text.strip()))
            seq.extend(("bot", reply) for reply in turn.replies)
    return seq


def lcs(a: list, b: list) -> int:
    """Length of the longest common subsequence (what is there and in order)."""
    prev = [0] * (len(b) + 1)
    for item in a:
        cur = [0]
        for j, other in enumerate(b):
            cur.append(prev[j] + 1 if item == other else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


@dataclass
class Check:
    conversations: int = 0
    expected_events: int = 0
    stored_events: int = 0
    lost: int = 0
    misordered: int = 0
    extra: int = 0
    broken_conversations: list[str] = field(default_factory=list)


def verify(database_url: str, convs: list[Conversation]) -> Check:
    """Compare what each parent saw with the events table, conversation by conversation.

    lost: sent or shown but not stored; misordered: stored but out of order;
    extra: stored but never shown to the parent (a half-kept turn)."""
    engine = create_engine(database_url)
    check = Check(conversations=len(convs))
    with engine.connect() as conn:
        for conv in convs:
            rows = conn.execute(text("SELECT type_name, data FROM events WHERE sender_id = :s "
                                     "AND type_name IN ('user', 'bot') ORDER BY id"),
                                {"s": conv.sender}).all()
            stored = stored_sequence([(r[0], r[1]) for r in rows])
            expected = expected_sequence(conv)
            present = sum((Counter(expected) & Counter(stored)).values())
            in_order = lcs(expected, stored)
            check.expected_events += len(expected)
            check.stored_events += len(stored)
            check.lost += len(expected) - present
            check.misordered += present - in_order
            check.extra += len(stored) - present
            if stored != expected:
                check.broken_conversations.append(conv.sender)
    engine.dispose()
    return check


def summary(convs: list[Conversation], seconds: float, check: Check) -> dict[str, Any]:
    turns = [t for c in convs for t in c.turns]
    latencies = sorted(t.latency_ms for t in turns if t.status == 200)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 \
        else [latencies[0] if latencies else 0.0] * 99
    errors = Counter(t.error or "store unavailable" for t in turns if not t.kept)
    return {"conversations": len(convs), "messages": len(turns),
            "seconds": round(seconds, 1),
            "messages_per_second": round(len(turns) / seconds, 2) if seconds else 0.0,
            "latency_ms": {"p50": round(cuts[49]), "p95": round(cuts[94]),
                           "p99": round(cuts[98]), "max": round(latencies[-1]) if latencies else 0},
            "errors": sum(errors.values()), "error_kinds": dict(errors),
            "silent_replies": sum(1 for t in turns if t.kept and not t.replies),
            "check": {k: v for k, v in asdict(check).items() if k != "broken_conversations"},
            "broken_conversations": len(check.broken_conversations)}


def print_summary(result: dict[str, Any]) -> None:
    lat = result["latency_ms"]
    chk = result["check"]
    print(f"\n{result['conversations']} conversations x "
          f"{result['messages'] // max(1, result['conversations'])} messages "
          f"over {result.get('processes', 2)} Rasa processes: {result['messages']} messages "
          f"in {result['seconds']} s")
    print(f"  throughput      {result['messages_per_second']} messages/s")
    print(f"  latency         p50 {lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms, "
          f"max {lat['max']} ms")
    print(f"  errors          {result['errors']} {result['error_kinds'] or ''}")
    print(f"  tracker store   {chk['stored_events']} of {chk['expected_events']} events; "
          f"lost {chk['lost']}, misordered {chk['misordered']}, extra {chk['extra']}; "
          f"conversations not whole: {result['broken_conversations']}")
    print(f"  empty replies   {result['silent_replies']} (paused for a counsellor)")


def run(conversations: int, messages: int, processes: int, out: Path | None) -> int:
    from bot import cluster

    missing = cluster.services_missing()
    if missing:
        print(f"make load needs PostgreSQL and Redis: {missing}")
        return 2
    with tempfile.TemporaryDirectory(prefix="load-") as tmp, \
            cluster.private_database("parenting_load") as db_url:
        print(f"starting {processes} Rasa processes + action servers on a private "
              "PostgreSQL database ...", flush=True)
        started = time.perf_counter()
        group = cluster.start_cluster(Path(tmp), processes, db_url)
        try:
            print(f"  ready in {time.perf_counter() - started:.0f} s; driving {conversations} "
                  f"conversations x {messages} messages ...", flush=True)
            urls = [node.rasa_url for node in group.nodes]
            asyncio.run(drive(urls, processes, 1))  # warm-up, not counted
            convs, seconds = asyncio.run(drive(urls, conversations, messages))
            check = verify(db_url, convs)
        finally:
            group.stop()
            cluster.forget_redis_keys(group.nodes[0].settings)
    result = summary(convs, seconds, check)
    result["processes"] = processes
    print_summary(result)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    ok = result["errors"] == 0 and check.lost == 0 and check.misordered == 0 \
        and check.extra == 0
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot load")
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "load.json")
    args = parser.parse_args(argv)
    return run(args.conversations, args.messages, args.processes, args.out)
