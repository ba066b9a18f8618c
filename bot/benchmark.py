"""`make bench`: this assistant side by side with a stock `rasa init` assistant, one run.

Both are trained from scratch (fresh Rasa cache, timed), started as real server
processes on free ports (ours with its action server and SQL tracker store), and sent
the same parent messages: /model/parse, then the REST webhook one at a time and 16 at
once. Phases alternate between the two assistants so that other work on the machine
weighs on both alike. Prints a table with the ratios and writes results/bench.json and
results/bench.png. Numbers are printed, never asserted: they depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests

from bot import bench_load, bench_stats, launcher, proc_memory
from bot.evaluate import EVAL_DIR
from bot.nlu_data import read_examples
from bot.settings import ROOT, load_settings

RESULTS = ROOT / "results"
VENV_BIN = Path(sys.executable).parent


def say(text: str) -> None:
    print(text, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_messages() -> list[str]:
    """Realistic parent messages: the held-out concerns and attachment questions (never
    trained on). No crisis or 'talk to a person' messages, which would pause ours."""
    return [t for t, i in read_examples(EVAL_DIR / "nlu_holdout.yml")
            if i.startswith(("concern_", "ask_"))]


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "nproc": os.cpu_count(), "cpu": cpu or platform.processor(),
            "load_average": list(os.getloadavg()), "python": platform.python_version()}


def wait_process(proc: subprocess.Popen, label: str, every: float = 15.0) -> float:
    """Wait for a process, printing the elapsed time now and then; returns seconds."""
    start = time.time()
    next_note = start + every
    try:
        while proc.poll() is None:
            time.sleep(0.5)
            if time.time() >= next_note:
                say(f"    ... {label}: {time.time() - start:.0f} s")
                next_note += every
    finally:  # interrupted: do not leave a training behind
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"{label} failed (exit {proc.returncode})")
    return time.time() - start


def clean_env(tmp: Path, cache: str) -> dict[str, str]:
    """The environment for Rasa processes: a fresh training cache (so training is full,
    not served from .rasa/cache) and quiet TensorFlow."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
           "RASA_CACHE_DIRECTORY": str(tmp / cache)}
    return env


def train_ours(tmp: Path, logs: Path) -> tuple[Path, float]:
    out = tmp / "ours-model"
    cmd = [str(VENV_BIN / "rasa"), "train", "--config", "config.yml", "--domain", "domain",
           "--data", "data", "--out", str(out), "--fixed-model-name", "parenting", "--force"]
    env = {**clean_env(tmp, "cache-ours"), "PYTHONPATH": str(ROOT)}
    with open(logs / "train-ours.log", "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        seconds = wait_process(proc, "training ours")
    return out / "parenting.tar.gz", seconds


def init_stock(tmp: Path, logs: Path) -> tuple[Path, float]:
    """`rasa init --no-prompt` writes the stock project and trains it (timed: copying the
    template takes milliseconds, training the rest)."""
    folder = tmp / "stock"
    folder.mkdir()
    env = clean_env(tmp, "cache-stock")
    env.pop("PYTHONPATH", None)
    with open(logs / "train-stock.log", "w") as log:
        proc = subprocess.Popen([str(VENV_BIN / "rasa"), "init", "--no-prompt",
                                 "--init-dir", str(folder)], cwd=tmp, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        seconds = wait_process(proc, "rasa init + training stock")
    models = sorted((folder / "models").glob("*.tar.gz"))
    if not models:
        raise RuntimeError(f"rasa init trained no model; see {logs / 'train-stock.log'}")
    return models[-1], seconds


@dataclass
class Assistant:
    """One running assistant: its processes, address and API token."""

    name: str
    url: str
    token: str
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    startup_s: float = 0.0

    def ready(self) -> bool:
        try:
            resp = requests.get(f"{self.url}/status", params={"token": self.token}, timeout=5)
            return resp.status_code == 200 and bool(resp.json().get("model_file"))
        except (requests.RequestException, ValueError):
            return False

    def wait_ready(self, started: float, timeout: float = 300.0) -> None:
        try:
            self._wait_ready(started, timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, started: float, timeout: float) -> None:
        while time.time() - started < timeout:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{self.name}: the {name} process exited")
            if self.ready():
                self.startup_s = time.time() - started
                return
            time.sleep(0.25)
        raise RuntimeError(f"{self.name} was not ready after {timeout:.0f} s")

    def rss(self) -> dict[str, float]:
        out = {f"{name}_rss_mb": proc_memory.rss_mb(proc.pid)
               for name, proc in self.procs.items()}
        out.update({f"{name}_peak_rss_mb": proc_memory.rss_mb(proc.pid, "VmHWM")
                    for name, proc in self.procs.items()})
        return out

    def stop(self) -> None:
        launcher.stop_processes(list(self.procs.values()))


def start_stock(model: Path, folder: Path, logs: Path, token: str) -> Assistant:
    port = free_port()
    env = clean_env(folder.parent, "cache-stock")
    env.pop("PYTHONPATH", None)
    cmd = [str(VENV_BIN / "rasa"), "run", "--model", str(model), "--port", str(port),
           "--enable-api", "--auth-token", token, "--endpoints", "endpoints.yml",
           "--credentials", "credentials.yml"]
    assistant = Assistant("stock", f"http://127.0.0.1:{port}", token)
    started = time.time()
    assistant.procs["rasa"] = subprocess.Popen(cmd, cwd=folder, env=env,
                                               stdout=open(logs / "stock-rasa.log", "w"),
                                               stderr=subprocess.STDOUT)
    assistant.wait_ready(started)
    return assistant


def start_ours(model: Path, tmp: Path, logs: Path, token: str,
               database_url: str | None) -> Assistant:
    """Ours as `make run` starts it: action server + Rasa server with the SQL tracker
    store (a fresh SQLite file unless --database-url), no lock store, no helpline hook."""
    rasa_port, action_port = free_port(), free_port()
    overrides = {"DATABASE_URL": database_url or f"sqlite:///{tmp / 'bench.db'}",
                 "RASA_PORT": str(rasa_port), "ACTION_PORT": str(action_port),
                 "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
                 "RASA_AUTH_TOKEN": token, "LOCK_STORE_URL": "", "HELPLINE_WEBHOOK_URL": "",
                 "LOG_MESSAGE_TEXT": "false"}
    os.environ.update(overrides)  # read by load_settings and write_endpoints
    settings = load_settings()
    endpoints = launcher.write_endpoints(settings, tmp / "endpoints.yml")
    env = {**clean_env(tmp, "cache-ours"), **overrides, "PYTHONPATH": str(ROOT)}
    assistant = Assistant("ours", f"http://127.0.0.1:{rasa_port}", token)
    started = time.time()
    assistant.procs["actions"] = subprocess.Popen(
        launcher.action_server_cmd(settings), cwd=ROOT, env=env,
        stdout=open(logs / "ours-actions.log", "w"), stderr=subprocess.STDOUT)
    assistant.procs["rasa"] = subprocess.Popen(
        launcher.rasa_server_cmd(settings, endpoints, port=rasa_port, model=model),
        cwd=ROOT, env=env, stdout=open(logs / "ours-rasa.log", "w"), stderr=subprocess.STDOUT)
    assistant.wait_ready(started)
    if not launcher.wait_for(f"http://127.0.0.1:{action_port}/health", 60):
        assistant.stop()
        raise RuntimeError("our action server did not answer /health")
    assistant.startup_s = time.time() - started
    return assistant


class Profiler:
    """py-spy flame graphs (results/profile-<assistant>-<process>.svg) of one load phase.

    Sampling costs the measured servers some time, so `--profile` numbers are for finding
    where time goes, not for the table."""

    def __init__(self, assistant: Assistant, phase: str) -> None:
        self.spies: list[subprocess.Popen] = []
        spy = shutil.which("py-spy", path=str(VENV_BIN)) or shutil.which("py-spy")
        if not spy:
            say("    (py-spy not found: pip install -r requirements.txt)")
            return
        for name, proc in assistant.procs.items():
            out = RESULTS / f"profile-{assistant.name}-{name}-{phase}.svg"
            self.spies.append(subprocess.Popen(
                [spy, "record", "--pid", str(proc.pid), "--rate", "100", "-o", str(out)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(1)  # attached before the first request

    def stop(self) -> None:
        for spy in self.spies:
            spy.send_signal(signal.SIGINT)
        for spy in self.spies:
            try:
                spy.wait(timeout=60)
            except subprocess.TimeoutExpired:
                spy.kill()


def measure(assistants: list[Assistant], texts: list[str], profile: bool = False,
            rounds: int = 4) -> dict[str, dict[str, Any]]:
    """Warm up, then each phase in `rounds` slices that alternate between the assistants
    (A B, B A, ...), so that other work on the machine weighs on both alike."""
    results: dict[str, dict[str, Any]] = {a.name: {} for a in assistants}
    for a in assistants:
        bench_load.parse_load(a.url, a.token, texts[:5])
        bench_load.webhook_load(a.url, texts[:5], 1)
    phases = [("parse", None), ("webhook_c1", 1), ("webhook_c16", 16)]
    for phase, concurrency in phases:
        slices = bench_stats.split_even(texts, rounds)
        latencies: dict[str, list[float]] = {a.name: [] for a in assistants}
        walls = {a.name: 0.0 for a in assistants}
        profilers = {a.name: Profiler(a, phase) for a in assistants} if profile else {}
        try:
            for r, part in enumerate(slices):
                order = assistants if r % 2 == 0 else list(reversed(assistants))
                for a in order:
                    if concurrency is None:
                        lat, wall = bench_load.parse_load(a.url, a.token, part)
                    else:
                        lat, wall = bench_load.webhook_load(a.url, part, concurrency)
                    latencies[a.name] += lat
                    walls[a.name] += wall
                say(f"    {phase}: round {r + 1}/{len(slices)} done")
        finally:
            for profiler in profilers.values():
                profiler.stop()
        for a in assistants:
            s = bench_stats.latency_summary(latencies[a.name], walls[a.name])
            s["latencies_ms"] = [round(x, 2) for x in latencies[a.name]]
            results[a.name][phase] = s
            say(f"  {a.name:5} {phase}: p50 {s['p50_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms, "
                f"{s['throughput_msg_s']:.1f} msg/s")
    return results


def flatten(raw: dict[str, Any], assistant: Assistant, training_s: float | None,
            memory: dict[str, float]) -> dict[str, Any]:
    """The metrics the table compares, from one assistant's raw results."""
    return {
        "parse_p50_ms": raw["parse"]["p50_ms"], "parse_p95_ms": raw["parse"]["p95_ms"],
        "webhook_c1_p50_ms": raw["webhook_c1"]["p50_ms"],
        "webhook_c1_p95_ms": raw["webhook_c1"]["p95_ms"],
        "webhook_c16_p50_ms": raw["webhook_c16"]["p50_ms"],
        "webhook_c16_p95_ms": raw["webhook_c16"]["p95_ms"],
        "throughput_c1_msg_s": raw["webhook_c1"]["throughput_msg_s"],
        "throughput_c16_msg_s": raw["webhook_c16"]["throughput_msg_s"],
        "rasa_rss_mb": memory.get("rasa_rss_mb"),
        "total_rss_mb": sum(v for k, v in memory.items() if k.endswith("_rss_mb")
                            and "peak" not in k),
        "startup_s": assistant.startup_s,
        "training_s": training_s,
    }


def chart(ours: dict[str, Any], stock: dict[str, Any], path: Path, when: str) -> None:
    """Grouped bars, ours beside stock, one panel per unit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("latency (ms, lower is better)", ["parse_p50_ms", "parse_p95_ms", "webhook_c1_p50_ms",
                                           "webhook_c1_p95_ms", "webhook_c16_p50_ms",
                                           "webhook_c16_p95_ms"]),
        ("throughput (msg/s, higher is better)", ["throughput_c1_msg_s",
                                                  "throughput_c16_msg_s"]),
        ("memory (MB RSS)", ["rasa_rss_mb", "total_rss_mb"]),
        ("time (s)", ["startup_s", "training_s"]),
    ]
    labels = {k: label for k, label, _, _ in bench_stats.METRICS}
    fig, axes = plt.subplots(2, 2, figsize=(13, 8))
    for ax, (title, keys) in zip(axes.flat, panels):
        xs = range(len(keys))
        width = 0.38
        for offset, (name, data, color) in enumerate(
                [("ours", ours, "#4c72b0"), ("stock rasa init", stock, "#c0c0c0")]):
            values = [data.get(k) or 0 for k in keys]
            bars = ax.bar([x + (offset - 0.5) * width for x in xs], values, width, label=name,
                          color=color)
            ax.bar_label(bars, fmt="%.0f", fontsize=7)
        ax.set_xticks(list(xs))
        ax.set_xticklabels([labels[k].replace("REST webhook", "webhook") for k in keys],
                           rotation=20, ha="right", fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
    fig.suptitle(f"Gentle-parenting assistant vs stock `rasa init` ({when})", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(train: bool = True, database_url: str | None = None, limit: int | None = None,
        profile: bool = False, repeat: int = 2) -> int:
    RESULTS.mkdir(exist_ok=True)
    logs = RESULTS / "bench-logs"
    logs.mkdir(exist_ok=True)
    texts = bench_messages()[:limit] if limit else bench_messages()
    texts = texts * repeat
    info = machine()
    say(f"make bench: {info['nproc']} cores ({info['cpu']}), load {info['load_average'][0]:.2f};"
        f" {len(texts)} parent messages per phase (the held-out ones {repeat}x);"
        f" logs in {logs.relative_to(ROOT)}/")
    # Ctrl-C and kill both clean up: servers stopped, temporary folder removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="parenting-bench-"))
    token = secrets.token_hex(16)
    assistants: list[Assistant] = []
    try:
        ours_training = None
        ours_model = launcher.MODEL
        if train:
            say("[1/5] training ours from scratch into a temporary folder (3-4 min on 2 cores)")
            ours_model, ours_training = train_ours(tmp, logs)
            say(f"  ours trained in {ours_training:.0f} s")
        else:
            say("[1/5] --no-train: using models/parenting.tar.gz, training not timed")
        say("[2/5] rasa init --no-prompt (stock assistant) and its training")
        stock_model, stock_training = init_stock(tmp, logs)
        say(f"  stock trained in {stock_training:.0f} s")
        say("[3/5] starting the stock server")
        stock = start_stock(stock_model, tmp / "stock", logs, token)
        assistants.append(stock)
        say(f"  stock ready in {stock.startup_s:.1f} s")
        say("[4/5] starting ours (action server + Rasa server, SQL tracker store)")
        ours = start_ours(ours_model, tmp, logs, token, database_url)
        assistants.insert(0, ours)
        say(f"  ours ready in {ours.startup_s:.1f} s")
        say("[5/5] measuring (phases alternate between the two)")
        raw = measure(assistants, texts, profile)
        memory = {a.name: a.rss() for a in assistants}
    finally:
        for a in assistants:
            a.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    ours_m = flatten(raw["ours"], ours, ours_training, memory["ours"])
    stock_m = flatten(raw["stock"], stock, stock_training, memory["stock"])
    rows = bench_stats.verdicts(ours_m, stock_m)
    info["load_average_after"] = list(os.getloadavg())
    result = {"machine": info, "messages": len(texts), "ours": ours_m, "stock": stock_m,
              "memory": memory, "raw": raw, "rows": rows}
    (RESULTS / "bench.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    chart(ours_m, stock_m, RESULTS / "bench.png", info["date"])
    say("")
    say(f"Measured {info['date']} on {info['nproc']} cores ({info['cpu']}), load average "
        f"{info['load_average'][0]:.2f} before, {info['load_average_after'][0]:.2f} after")
    say(bench_stats.table(rows))
    missed = [r["label"] for r in rows if r["met"] is False]
    say("targets: " + ("all met" if not missed else "MISSED: " + ", ".join(missed)))
    say("written: results/bench.json, results/bench.png")
    if profile:
        say("flame graphs: results/profile-<assistant>-<process>-<phase>.svg (py-spy sampled"
            " the servers during this run, so its numbers are slower than a plain run's)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot bench")
    parser.add_argument("--no-train", action="store_true",
                        help="use models/parenting.tar.gz instead of timing a fresh training")
    parser.add_argument("--database-url", help="tracker store for ours (default: a fresh "
                        "SQLite file), e.g. postgresql://postgres@127.0.0.1/bench_db")
    parser.add_argument("--messages", type=int, help="use only the first N messages")
    parser.add_argument("--repeat", type=int, default=2,
                        help="send each message this many times per phase (default 2)")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy flame graphs of every phase in results/ (slows the "
                             "servers: use for finding where time goes, not for the table)")
    args = parser.parse_args(argv)
    return run(train=not args.no_train, database_url=args.database_url, limit=args.messages,
               profile=args.profile, repeat=max(1, args.repeat))
