"""Files `make eval` writes to results/: per-intent scores (JSON + CSV), a confusion
matrix picture, and the short summary printed at the end."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any


def confusion(gold: list[str], pred: list[str]) -> tuple[list[str], list[list[int]]]:
    """Labels (gold intents first, then intents only predicted) and counts[gold][pred]."""
    labels = sorted(set(gold)) + sorted(set(pred) - set(gold))
    index = {label: i for i, label in enumerate(labels)}
    counts = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, pred):
        counts[index[g]][index[p]] += 1
    return labels, counts


def write_scores(scores: dict[str, dict[str, float]], folder: Path) -> None:
    """results/intent_scores.json and .csv: precision, recall, F1 and support per intent."""
    (folder / "intent_scores.json").write_text(json.dumps(scores, indent=2), encoding="utf-8")
    with open(folder / "intent_scores.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["intent", "precision", "recall", "f1", "support"])
        for intent, s in scores.items():
            writer.writerow([intent, f"{s['precision']:.4f}", f"{s['recall']:.4f}",
                             f"{s['f1']:.4f}", s["support"]])


def plot_confusion(labels: list[str], counts: list[list[int]], path: Path, title: str) -> None:
    """A confusion-matrix PNG: rows are the true intent, columns the predicted one."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = max(8.0, 0.38 * len(labels) + 3)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(counts, cmap="Blues")
    ax.set_xticks(range(len(labels)))
    ax.set_yticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=90, fontsize=7)
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xlabel("predicted intent")
    ax.set_ylabel("true intent")
    peak = max(max(row) for row in counts) or 1
    for i, row in enumerate(counts):
        for j, value in enumerate(row):
            if value:
                ax.text(j, i, str(value), ha="center", va="center", fontsize=6,
                        color="white" if value > peak / 2 else "black")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def summary(results: dict[str, Any]) -> list[str]:
    """The few lines printed last: what a reader needs at a glance."""
    h, c = results["holdout"], results["crisis"]
    conv = results.get("conversations") or {}
    lines = ["Summary",
             f"  NLU held-out: accuracy {h['accuracy']:.3f}, macro F1 {h['macro_f1']:.3f}"
             f" ({h['n']} messages)",
             f"  crisis recall {c['recall']:.3f} ({c['n_crisis']} messages), false alarms"
             f" {c['false_alarm_rate']:.3f} ({c['n_ordinary']} ordinary)"]
    for name, b in (results.get("blind_sets") or {}).items():
        lines.append(f"  {name} (blind): crisis recall {b['recall']:.3f} ({b['n_crisis']}),"
                     f" false alarms {b['ordinary']['false_alarm_rate']:.3f}"
                     f" ({b['ordinary']['n']} ordinary)")
    for name, b in (results.get("blind_intent_sets") or {}).items():
        lines.append(f"  {name} (blind intents): accuracy {b['accuracy']:.3f}, concerns and"
                     f" questions {b['concern_accuracy']:.3f}, macro F1 {b['macro_f1']:.3f}"
                     f" ({b['n']} messages)")
    if conv.get("pass_rate") is not None:
        lines.append(f"  conversation tests: {conv['total'] - conv['failed']}/{conv['total']}"
                     f" pass ({conv['pass_rate']:.3f})")
    elif conv:
        lines.append(f"  conversation tests: not run ({conv.get('error')})")
    cv = results.get("cross_validation") or {}
    if cv.get("accuracy") is not None:
        lines.append(f"  cross-validation ({cv['folds']} folds, training data): accuracy"
                     f" {cv['accuracy']:.3f}, macro F1 {cv['macro_f1']:.3f}")
        if cv.get("crisis_recall") is not None:
            lines.append(f"    crisis recall {cv['crisis_recall']:.3f} ({cv['n_crisis']} crisis"
                         f" examples), false alarms {cv['crisis_false_alarm_rate']:.3f}")
    elif cv:
        lines.append(f"  cross-validation: failed ({cv.get('error')})")
    return lines
