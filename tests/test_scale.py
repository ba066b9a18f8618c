"""Scale-out and faults against real processes, PostgreSQL and Redis (issue 7, 1-3).

Two ``rasa run`` processes, each with its own action server, share a private PostgreSQL
database and a private Redis key prefix (and a private RabbitMQ queue when RabbitMQ is
there). Rasa reaches PostgreSQL through a TCP proxy so a test can cut the database
without touching the machine's shared server. Checks are made in the ``events`` table
directly. The tests run in file order; the last one kills a Rasa process.

In CI (env CI set) missing services fail the tests; elsewhere they are skipped.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import secrets
import threading
import time
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from actions.content import load as load_content
from bot import cluster as scale
from bot import db, launcher
from bot.load import Conversation, Turn, converse, drive, reply_texts, summary, verify
from bot.settings import load_settings
from bot.store_outage import outage_text
from tests.conftest import MODEL
from tests.tcp_proxy import TcpProxy

ORDINARY = "I shouted at my 5 year old tonight and now I feel awful"
CRISIS = "I want to kill myself"
COUNSELLOR = secrets.token_hex(16)
AMQP_URL = os.environ.get("SCALE_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: in CI the scale tests must run")
    print(f"\nSKIP scale tests: {reason}")
    pytest.skip(reason)


async def _rabbit(action: str, queue: str = "", sender: str = "",
                  want: int = 0) -> Any:
    """RabbitMQ through aio-pika (what Rasa's broker uses): ``ping``, ``user_texts`` of
    one conversation published to ``queue``, or ``delete`` the queue."""
    import aio_pika

    connection = await aio_pika.connect(AMQP_URL, timeout=5)
    async with connection:
        channel = await connection.channel()
        if action == "ping":
            return True
        if action == "delete":
            await channel.queue_delete(queue)
            return None
        found = await channel.get_queue(queue)
        texts: list[str] = []
        deadline = time.time() + 20
        while time.time() < deadline and len(texts) < want:
            message = await found.get(no_ack=True, fail=False)
            if message is None:
                await asyncio.sleep(0.5)
                continue
            event = json.loads(message.body)
            if event.get("sender_id") == sender and event.get("event") == "user":
                texts.append(event["text"])
        return texts


def _rabbit_ok() -> bool:
    try:
        return asyncio.run(_rabbit("ping"))
    except Exception:  # noqa: BLE001 - any failure means "absent"
        return False


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    assert MODEL.exists(), "no trained model"
    missing = scale.services_missing()
    if missing:
        _unavailable(missing)
    broker = AMQP_URL if _rabbit_ok() else ""
    if not broker:
        if os.environ.get("CI"):
            pytest.fail("RabbitMQ not reachable: in CI the scale tests must run")
        print("\nRabbitMQ absent: the event broker is left out")
    queue = f"scale_test_{secrets.token_hex(4)}"
    with scale.private_database("parenting_scaletest") as db_url:
        proxy = TcpProxy(make_url(db_url).port or 5432)
        through_proxy = str(make_url(db_url).set(host="127.0.0.1", port=proxy.port))
        group = scale.start_cluster(tmp_path_factory.mktemp("scale"), 2, db_url,
                                    rasa_database_url=through_proxy,
                                    event_broker_url=broker, event_broker_queue=queue,
                                    extra_env={"COUNSELLOR_TOKENS": f"sam:{COUNSELLOR}"})
        try:
            yield {"cluster": group, "proxy": proxy, "db": db_url,
                   "queue": queue if broker else ""}
        finally:
            group.stop()
            proxy.close()
            scale.forget_redis_keys(group.nodes[0].settings)
            if broker:
                asyncio.run(_rabbit("delete", queue))


def test_prepare_database_creates_a_missing_database_and_every_table():
    missing = scale.services_missing()
    if missing:
        _unavailable(missing)
    admin = create_engine(scale.admin_url(), isolation_level="AUTOCOMMIT")
    name = f"parenting_prep_{secrets.token_hex(4)}"
    url = str(make_url(scale.admin_url()).set(database=name))
    try:
        launcher.prepare_database(dataclasses.replace(load_settings(), database_url=url))
        engine = create_engine(url)
        assert {"events", "handoffs", "handoff_outbox", "escalations"} <= \
            set(inspect(engine).get_table_names())
        engine.dispose()
        db.engine_for(url).dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def say(node: scale.Node, conv: Conversation, message: str, index: int = 0) -> list[str]:
    """One REST message; recorded in ``conv`` so the tracker store can be checked."""
    turn = Turn(message, index)
    conv.turns.append(turn)
    start = time.perf_counter()
    resp = requests.post(node.rasa_url + "/webhooks/rest/webhook",
                         json={"sender": conv.sender, "message": message}, timeout=90)
    turn.latency_ms = (time.perf_counter() - start) * 1000
    turn.status = resp.status_code
    assert resp.status_code == 200, resp.text
    turn.replies = reply_texts(resp.json())
    return turn.replies


def assert_whole(db_url: str, *convs: Conversation) -> None:
    check = verify(db_url, list(convs))
    assert (check.lost, check.misordered, check.extra) == (0, 0, 0), check
    assert check.stored_events == check.expected_events > 0


def test_two_processes_serve_one_conversation_whole_and_in_order(env):
    nodes = env["cluster"].nodes
    conv = Conversation(secrets.token_hex(16))
    messages = [ORDINARY, "she's 4", "what words could I use?", "thank you, that helps",
                "my toddler hits me when she doesn't get her way", "tell me more"]
    for number, message in enumerate(messages):
        assert say(nodes[number % 2], conv, message, number % 2), message
    assert_whole(env["db"], conv)
    if env["queue"]:  # the optional event broker published the conversation's events
        assert asyncio.run(_rabbit("user_texts", env["queue"], conv.sender,
                                   len(messages))) == messages


def test_counsellor_on_one_process_reaches_a_web_chat_on_the_other(env):
    import socketio

    parent_node, counsellor_node = env["cluster"].nodes
    client, confirmed, got = socketio.Client(), [], []
    client.on("session_confirm", confirmed.append)
    client.on("bot_uttered", got.append)
    client.connect(parent_node.rasa_url, transports=["websocket"], socketio_path="/socket.io")
    try:
        client.emit("session_request", {"session_id": None})
        deadline = time.time() + 10
        while not confirmed and time.time() < deadline:
            time.sleep(0.1)
        handoff = db.create_handoff(env["db"], conversation_id=confirmed[0],
                                    channel="socketio", crisis_type="crisis_self_harm")
        api = f"{counsellor_node.rasa_url}/webhooks/counsellor/api/handoffs/{handoff['id']}"
        auth = {"Authorization": f"Bearer {COUNSELLOR}"}
        assert requests.post(api + "/claim", headers=auth, timeout=30).status_code == 200
        sent = requests.post(api + "/messages", headers=auth, timeout=30,
                             json={"text": "I'm Sam from the helpline. I'm here with you."})
        assert sent.json() == {"delivered": "pushed"}
        deadline = time.time() + 15
        while not got and time.time() < deadline:
            time.sleep(0.2)
        assert any("Sam from the helpline" in (m.get("text") or "") for m in got), got
    finally:
        client.disconnect()


def test_small_load_over_two_processes_loses_nothing(env):
    urls = [node.rasa_url for node in env["cluster"].nodes]
    convs, seconds = asyncio.run(drive(urls, 10, 5, seed=11, timeout=120))
    result = summary(convs, seconds, verify(env["db"], convs))
    assert result["errors"] == 0, result
    assert result["check"]["lost"] == result["check"]["misordered"] == 0, result
    assert result["check"]["extra"] == 0 and result["broken_conversations"] == 0, result


def test_action_server_killed_apology_crisis_static_then_back(env):
    node = env["cluster"].nodes[0]
    apology = " ".join(load_content("service_trouble")["action_unavailable"].split())
    conv = Conversation(secrets.token_hex(16))
    assert say(node, conv, "hi")
    node.kill("actions")
    try:
        replies = say(node, conv, ORDINARY)
        assert replies == [apology], "an ordinary message gets a short apology, not silence"
        replies = say(node, conv, CRISIS)
        assert replies and "emergency" in replies[0].lower(), replies
        assert apology not in replies, "the crisis response is the answer, no apology"
    finally:
        node.start_actions()
        assert node.wait_actions()
    replies = say(node, conv, ORDINARY)
    assert replies and apology not in replies, "answers again once the action server is back"
    assert_whole(env["db"], conv)


def test_database_cut_answers_kindly_and_keeps_no_half_turn(env):
    node, proxy = env["cluster"].nodes[1], env["proxy"]
    conv = Conversation(secrets.token_hex(16))
    assert say(node, conv, ORDINARY)
    proxy.drop()
    try:
        assert say(node, conv, "she's 4") == [outage_text()]
        replies = say(node, conv, CRISIS)
        assert "emergency" in replies[0].lower() and replies[-1] == outage_text(), replies
    finally:
        proxy.resume()
    replies = say(node, conv, "what words could I use?")
    assert replies and outage_text() not in replies, "recovers once the database is back"
    assert_whole(env["db"], conv)  # the two turns during the cut are not in the store


def _talk_through_fault(env, fault, script: list[str], timeout: float,
                        pause: float) -> list[Turn]:
    """Six parents write while ``fault`` runs in a thread, then once more each after it
    ended; returns the refused turns after checking that nothing broke or was lost."""
    urls = [node.rasa_url for node in env["cluster"].nodes]
    convs = [Conversation(secrets.token_hex(16)) for _ in range(6)]
    worker = threading.Thread(target=fault)

    async def run() -> None:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            worker.start()
            await asyncio.gather(*(converse(session, urls, conv, script, i, timeout,
                                            pause=pause) for i, conv in enumerate(convs)))
            await asyncio.to_thread(worker.join)  # the database is back
            await asyncio.gather(*(converse(session, urls, conv, ["I'll try that tonight"],
                                            i, timeout) for i, conv in enumerate(convs)))

    asyncio.run(run())
    turns = [turn for conv in convs for turn in conv.turns]
    assert all(turn.status == 200 for turn in turns), [t.error for t in turns]
    refused = [turn for turn in turns if not turn.kept]
    assert all(turn.replies == [outage_text()] for turn in refused)
    assert all(conv.turns[-1].kept for conv in convs), "every conversation recovers"
    assert_whole(env["db"], *convs)
    return refused


def test_database_cut_during_load_fails_cleanly_and_recovers(env):
    proxy = env["proxy"]

    def cut() -> None:
        time.sleep(3)
        proxy.drop()
        time.sleep(4)
        proxy.resume()

    refused = _talk_through_fault(env, cut, [
        ORDINARY, "she's 4", "what words could I use?", "tell me more", "ok", "thanks",
        "my 3 year old has huge meltdowns in the supermarket", "hi", "that makes sense",
        "thank you, that helps"], timeout=90, pause=0.4)
    assert refused, "the cut should have hit some messages"


def _restart_postgresql() -> str | None:
    """Restart the machine's PostgreSQL cluster (what an operator's restart does: every
    connection is closed by the server). Returns why it could not, or None."""
    import shutil
    import subprocess
    from pathlib import Path

    tool = shutil.which("pg_ctlcluster")
    versions = sorted(p.name for p in Path("/etc/postgresql").glob("*")) \
        if Path("/etc/postgresql").is_dir() else []
    if os.geteuid() != 0 or not tool or not versions:
        return "needs root and pg_ctlcluster to restart PostgreSQL"
    done = subprocess.run([tool, "--skip-systemctl-redirect", versions[-1], "main", "restart",
                           "-m", "fast"], capture_output=True, text=True, timeout=120)
    return None if done.returncode == 0 else f"restart failed: {done.stderr.strip()}"


def test_database_restarted_during_load_fails_cleanly_and_recovers(env):
    """The real server restarted (not a cut at the proxy) while six parents write."""
    import shutil
    if os.geteuid() != 0 or not shutil.which("pg_ctlcluster"):
        _unavailable("needs root and pg_ctlcluster to restart PostgreSQL")
    problem: list[str] = []

    def restart() -> None:
        time.sleep(2)
        reason = _restart_postgresql()
        if reason:
            problem.append(reason)

    refused = _talk_through_fault(env, restart, [
        ORDINARY, "she's 4", "what words could I use?", "tell me more", "ok", "thanks",
        "my 3 year old has huge meltdowns in the supermarket", "hi"], timeout=120, pause=0.3)
    assert not problem, problem
    print(f"\nPostgreSQL restarted: {len(refused)} messages refused kindly")


def test_zz_rasa_process_killed_the_other_carries_on(env):
    first, second = env["cluster"].nodes
    conv = Conversation(secrets.token_hex(16))
    assert say(first, conv, ORDINARY, 0)
    assert say(second, conv, "she's 4", 1)
    first.kill("rasa")
    for message in ("what words could I use?", "thank you, that helps", CRISIS):
        assert say(second, conv, message, 1), message
    assert_whole(env["db"], conv)
    users = [turn.text for turn in conv.turns]
    assert users[-1] == CRISIS
