"""Numbers for `make bench`: percentiles, ratios against stock Rasa, the targets, the table.

Pure functions (no servers), so that they can be unit-tested and the benchmark's printed
table is computed the same way as its JSON.
"""

from __future__ import annotations

import math
from typing import Any

# (metric key, label, unit, target ratio ours/stock or None). Lower is better for all.
METRICS: list[tuple[str, str, str, float | None]] = [
    ("parse_p50_ms", "/model/parse p50", "ms", None),
    ("parse_p95_ms", "/model/parse p95", "ms", 1.3),
    ("webhook_c1_p50_ms", "REST webhook p50, 1 at a time", "ms", None),
    ("webhook_c1_p95_ms", "REST webhook p95, 1 at a time", "ms", 2.0),
    ("webhook_c16_p50_ms", "REST webhook p50, 16 at once", "ms", None),
    ("webhook_c16_p95_ms", "REST webhook p95, 16 at once", "ms", 2.0),
    ("throughput_c1_msg_s", "throughput, 1 at a time", "msg/s", None),
    ("throughput_c16_msg_s", "throughput, 16 at once", "msg/s", None),
    ("rasa_rss_mb", "Rasa server memory (RSS)", "MB", 1.2),
    ("total_rss_mb", "all server processes (RSS)", "MB", None),
    ("startup_s", "start-up to ready", "s", None),
    ("training_s", "full training (rasa train)", "s", None),
]
# Throughput: higher is better, so its ratio is read the other way round in the verdict.
HIGHER_IS_BETTER = {"throughput_c1_msg_s", "throughput_c16_msg_s"}
TRAINING_LIMIT_S = 300.0


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between closest ranks
    (numpy's default), so p95 of 20 values is not simply the largest one."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def split_even(items: list, parts: int) -> list[list]:
    """`items` in at most `parts` consecutive slices whose sizes differ by at most one."""
    parts = max(1, min(parts, len(items)))
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return out


def latency_summary(latencies_ms: list[float], wall_s: float) -> dict[str, float]:
    """p50/p95/max latency and throughput of one load run."""
    return {"n": len(latencies_ms), "p50_ms": percentile(latencies_ms, 50),
            "p95_ms": percentile(latencies_ms, 95), "max_ms": max(latencies_ms),
            "throughput_msg_s": len(latencies_ms) / wall_s if wall_s > 0 else 0.0}


def ratio(ours: float | None, stock: float | None) -> float | None:
    """ours / stock, or None when either is missing or stock is zero."""
    if ours is None or stock is None or stock == 0:
        return None
    return ours / stock


def verdicts(ours: dict[str, Any], stock: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per metric: both values, the ratio, and whether the issue's target holds."""
    rows = []
    for key, label, unit, target in METRICS:
        r = ratio(ours.get(key), stock.get(key))
        met = None if target is None or r is None else r <= target
        rows.append({"metric": key, "label": label, "unit": unit, "ours": ours.get(key),
                     "stock": stock.get(key), "ratio": r, "target": target, "met": met})
    training = ours.get("training_s")
    rows.append({"metric": "training_limit", "label": "our full training under 5 min",
                 "unit": "s", "ours": training, "stock": None, "ratio": None,
                 "target": TRAINING_LIMIT_S,
                 "met": None if training is None else training < TRAINING_LIMIT_S})
    return rows


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if unit in {"MB"} or value >= 100 else f"{value:.1f}"


def table(rows: list[dict[str, Any]]) -> str:
    """The printed table: metric, ours, stock, ratio, target and verdict."""
    lines = [f"{'metric':34} {'ours':>9} {'stock':>9} {'ratio':>6}  target",
             "-" * 72]
    for row in rows:
        unit = row["unit"]
        r = "-" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        if row["metric"] == "training_limit":
            target = f"< {row['target']:.0f} s"
        elif row["target"] is None:
            target = ""
        else:
            target = f"<= {row['target']}x"
        verdict = {True: "ok", False: "MISSED", None: ""}[row["met"]]
        lines.append(f"{row['label'] + ' (' + unit + ')':34} {_fmt(row['ours'], unit):>9} "
                     f"{_fmt(row['stock'], unit):>9} {r:>6}  {target} {verdict}".rstrip())
    return "\n".join(lines)
