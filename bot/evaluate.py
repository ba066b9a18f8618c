"""`make eval`: NLU, crisis and conversation evaluation on sets kept out of training.

Prints per-intent precision/recall/F1 on tests/eval/nlu_holdout.yml, crisis recall /
false-alarm rate on tests/eval/crisis_set.yml (plus the holdout's ordinary messages) and
the conversation tests' pass rate (tests/test_stories.yml), and writes results/eval.json,
results/intent_scores.{json,csv} and results/confusion_matrix.png. Parsing runs through
the trained model with the whole pipeline, safety net included. With --cross-validation
(`make eval CV=1`) Rasa's cross-validation on the training data is added (slow: one
training per fold). Exits 1 if crisis recall on the project crisis set is below 100%.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bot import conversation_eval, eval_report
from bot.nlu_data import read_examples
from bot.settings import ROOT

CRISIS = {"crisis_self_harm", "crisis_harm_child", "crisis_danger"}
EVAL_DIR = ROOT / "tests" / "eval"
RESULTS = ROOT / "results"


def load_agent(model: Path):
    """Load the trained model in-process; logging stays at WARNING so that no message
    text reaches the logs (Rasa's debug logs contain it)."""
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.WARNING)
    return Agent.load(str(model))


async def _parse_all(agent: Any, texts: list[str]) -> list[dict]:
    return [await agent.parse_message(t) for t in texts]


def parse_all(agent: Any, texts: list[str]) -> list[dict]:
    return asyncio.run(_parse_all(agent, texts))


def per_intent_scores(gold: list[str], pred: list[str]) -> dict[str, dict[str, float]]:
    scores = {}
    for intent in sorted(set(gold)):
        tp = sum(g == p == intent for g, p in zip(gold, pred))
        fp = sum(p == intent and g != intent for g, p in zip(gold, pred))
        fn = sum(g == intent and p != intent for g, p in zip(gold, pred))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[intent] = {"precision": precision, "recall": recall, "f1": f1,
                          "support": tp + fn}
    return scores


def crisis_rates(agent: Any, crisis: list[tuple[str, str]]) -> dict[str, Any]:
    """Recall and type accuracy on (text, crisis intent) pairs, with the misses."""
    pred = [p["intent"]["name"] for p in parse_all(agent, [t for t, _ in crisis])]
    return {"n_crisis": len(crisis),
            "recall": sum(p in CRISIS for p in pred) / len(crisis),
            "type_accuracy": sum(p == g for (_, g), p in zip(crisis, pred)) / len(crisis),
            "safety_question_on_missed": sum(p == "possible_crisis" for p in pred),
            "missed": [{"text": t, "gold": g, "pred": p}
                       for (t, g), p in zip(crisis, pred) if p not in CRISIS]}


def alarm_rates(agent: Any, texts: list[str]) -> dict[str, Any]:
    """False alarms (a crisis intent) and safety questions on messages that are no crisis."""
    pred = [p["intent"]["name"] for p in parse_all(agent, texts)]
    return {"n": len(texts),
            "false_alarm_rate": sum(p in CRISIS for p in pred) / len(texts),
            "safety_question_rate": sum(p == "possible_crisis" for p in pred) / len(texts),
            "false_alarms": [t for t, p in zip(texts, pred) if p in CRISIS]}


def development_set(agent: Any) -> dict[str, Any]:
    """The second crisis set (tests/eval/crisis_dev.yml): reported, not gated."""
    path = EVAL_DIR / "crisis_dev.yml"
    if not path.exists():
        return {}
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    crisis = [(t, k) for k in sorted(CRISIS) for t in data.get(k, [])]
    ordinary = alarm_rates(agent, list(data.get("non_crisis", [])))
    return {**crisis_rates(agent, crisis), "n_ordinary": ordinary["n"],
            "false_alarm_rate": ordinary["false_alarm_rate"],
            "safety_question_rate": ordinary["safety_question_rate"]}


def blind_sets(agent: Any) -> dict[str, Any]:
    """Sets written blind by someone who never saw the training data (tests/eval/
    crisis_blind*.yml): crisis recall, and false alarms on ordinary messages and on hard
    look-alikes separately. Reported, not gated: their misses are DIET's honest error."""
    results = {}
    for path in sorted(EVAL_DIR.glob("crisis_blind*.yml")):
        rows = read_examples(path)
        out = crisis_rates(agent, [(t, g) for t, g in rows if g in CRISIS])
        for kind in ("ordinary", "hard_lookalike"):
            out[kind] = alarm_rates(agent, [t for t, g in rows if g == kind])
        results[path.name] = out
    return results


def intent_scores(agent: Any, rows: list[tuple[str, str]]) -> dict[str, Any]:
    """Accuracy, accuracy on concerns and questions, macro F1 and errors on (text, intent)."""
    pred = [p["intent"]["name"] for p in parse_all(agent, [t for t, _ in rows])]
    gold = [g for _, g in rows]
    scores = per_intent_scores(gold, pred)
    concern = [(g, p) for g, p in zip(gold, pred) if g.startswith(("concern_", "ask_"))]
    return {"n": len(rows), "gold": gold, "pred": pred,
            "accuracy": sum(g == p for g, p in zip(gold, pred)) / len(rows),
            "concern_accuracy": (sum(g == p for g, p in concern) / len(concern)
                                 if concern else None),
            "macro_f1": sum(s["f1"] for s in scores.values()) / len(scores),
            "per_intent": scores,
            # crisis intents on the messages that are no crisis (a set may hold crises too)
            "false_alarm_rate": (sum(p in CRISIS for g, p in zip(gold, pred) if g not in CRISIS)
                                 / max(1, sum(g not in CRISIS for g in gold))),
            "errors": [{"text": t, "gold": g, "pred": p}
                       for (t, g), p in zip(rows, pred) if g != p]}


def blind_intent_sets(agent: Any) -> dict[str, Any]:
    """Whole-taxonomy sets written blind (tests/eval/nlu_blind*.yml): how the intents hold
    up on wording nobody here wrote. Reported, not gated."""
    return {path.name: intent_scores(agent, read_examples(path))
            for path in sorted(EVAL_DIR.glob("nlu_blind*.yml"))}


def evaluate(agent: Any) -> dict[str, Any]:
    holdout = read_examples(EVAL_DIR / "nlu_holdout.yml")
    crisis_set = read_examples(EVAL_DIR / "crisis_set.yml")

    h = intent_scores(agent, holdout)
    h_pred = h["pred"]

    c_parsed = parse_all(agent, [t for t, _ in crisis_set])
    crisis_rows = []
    for (text, gold), parsed in zip(crisis_set, c_parsed):
        net = parsed.get("safety_net") or {}
        crisis_rows.append({"text": text, "gold": gold, "pred": parsed["intent"]["name"],
                            "layer": net.get("layer"), "pattern": net.get("pattern")})
    positives = [r for r in crisis_rows if r["gold"] in CRISIS]
    hard_neg = [r for r in crisis_rows if r["gold"] not in CRISIS]
    ordinary = hard_neg + [{"text": t, "gold": g, "pred": p}
                           for (t, g), p in zip(holdout, h_pred)]
    recall = sum(r["pred"] in CRISIS for r in positives) / len(positives)
    type_acc = sum(r["pred"] == r["gold"] for r in positives) / len(positives)
    false_alarm = sum(r["pred"] in CRISIS for r in ordinary) / len(ordinary)
    hard_false_alarm = sum(r["pred"] in CRISIS for r in hard_neg) / len(hard_neg)
    question_rate = sum(r["pred"] == "possible_crisis" for r in ordinary) / len(ordinary)
    layers = Counter(r["layer"] or "classifier" for r in positives if r["pred"] in CRISIS)

    dev = development_set(agent)
    return {
        "development_set": dev,
        "blind_sets": blind_sets(agent),
        "blind_intent_sets": blind_intent_sets(agent),
        "holdout": h,
        "crisis": {"n_crisis": len(positives), "n_hard_non_crisis": len(hard_neg),
                   "n_ordinary": len(ordinary), "recall": recall, "type_accuracy": type_acc,
                   "false_alarm_rate": false_alarm, "hard_false_alarm_rate": hard_false_alarm,
                   "safety_question_rate": question_rate, "detected_by": dict(layers),
                   "missed": [r for r in positives if r["pred"] not in CRISIS],
                   "false_alarms": [r for r in ordinary if r["pred"] in CRISIS]},
    }


def report(results: dict[str, Any]) -> str:
    h, c = results["holdout"], results["crisis"]
    lines = ["NLU held-out evaluation (tests/eval/nlu_holdout.yml)",
             f"{'intent':32} {'prec':>6} {'rec':>6} {'f1':>6} {'n':>4}"]
    for intent, s in h["per_intent"].items():
        lines.append(f"{intent:32} {s['precision']:6.2f} {s['recall']:6.2f} {s['f1']:6.2f} "
                     f"{s['support']:4d}")
    lines += [
        f"accuracy {h['accuracy']:.3f} (concerns and questions {h['concern_accuracy']:.3f}), "
        f"macro F1 {h['macro_f1']:.3f}, n={h['n']}",
        "",
        "Crisis evaluation (tests/eval/crisis_set.yml + ordinary holdout messages)",
        f"crisis recall        {c['recall']:.3f}  ({c['n_crisis']} crisis messages)",
        f"crisis type accuracy {c['type_accuracy']:.3f}",
        f"false-alarm rate     {c['false_alarm_rate']:.3f}  ({c['n_ordinary']} ordinary messages,"
        f" hard look-alikes alone {c['hard_false_alarm_rate']:.3f})",
        f"safety-question rate {c['safety_question_rate']:.3f}  (ordinary messages that got the"
        " gentle safety question)",
        f"detected by          {c['detected_by']}",
    ]
    for miss in c["missed"]:
        lines.append(f"  MISSED: {miss['text']!r} -> {miss['pred']}")
    for alarm in c["false_alarms"]:
        lines.append(f"  FALSE ALARM: {alarm['text']!r} ({alarm['gold']}) -> {alarm['pred']}")
    d = results.get("development_set") or {}
    if d:
        lines += ["", "Second crisis set (tests/eval/crisis_dev.yml; seen during development,"
                      " not gated)",
                  f"crisis recall        {d['recall']:.3f}  ({d['n_crisis']} crisis messages)",
                  f"false-alarm rate     {d['false_alarm_rate']:.3f}  ({d['n_ordinary']} ordinary,"
                  f" mostly hard look-alikes; safety question {d['safety_question_rate']:.3f})"]
        for miss in d["missed"]:
            lines.append(f"  MISSED: {miss['text']!r} -> {miss['pred']}")
    for name, b in (results.get("blind_sets") or {}).items():
        o, h = b["ordinary"], b["hard_lookalike"]
        lines += ["", f"Blind set tests/eval/{name} (written without seeing the training data;"
                      " not gated)",
                  f"crisis recall        {b['recall']:.3f}  ({b['n_crisis']} crisis messages;"
                  f" {b['safety_question_on_missed']} of the missed get the safety question)",
                  f"crisis type accuracy {b['type_accuracy']:.3f}",
                  f"false-alarm rate     {o['false_alarm_rate']:.3f}  ({o['n']} ordinary;"
                  f" safety question {o['safety_question_rate']:.3f})",
                  f"hard look-alikes     {h['false_alarm_rate']:.3f}  ({h['n']};"
                  f" safety question {h['safety_question_rate']:.3f})"]
        for miss in b["missed"]:
            lines.append(f"  MISSED: {miss['text']!r} -> {miss['pred']}")
        for text in o["false_alarms"]:
            lines.append(f"  FALSE ALARM (ordinary): {text!r}")
    for name, b in (results.get("blind_intent_sets") or {}).items():
        lines += ["", f"Blind intent set tests/eval/{name} (the whole taxonomy, written without"
                      " seeing the training data; not gated)",
                  f"accuracy {b['accuracy']:.3f} (concerns and questions"
                  f" {b['concern_accuracy']:.3f}), macro F1 {b['macro_f1']:.3f}, n={b['n']},"
                  f" crisis false alarms {b['false_alarm_rate']:.3f}"]
        weakest = sorted(b["per_intent"].items(), key=lambda kv: kv[1]["f1"])[:5]
        lines.append("  weakest F1: " + ", ".join(f"{i} {s['f1']:.2f}" for i, s in weakest))
    return "\n".join(lines)


def cross_validation(folds: int, out: Path) -> dict[str, Any]:
    """Rasa's NLU cross-validation on the training data (data/): one training per fold."""
    rasa = Path(sys.executable).parent / "rasa"
    out.mkdir(parents=True, exist_ok=True)
    start = time.time()
    with open(out / "rasa-test-nlu.log", "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [str(rasa), "test", "nlu", "--nlu", "data", "--config", "config.yml",
             "--domain", "domain", "--cross-validation", "--folds", str(folds),
             "--out", str(out), "--no-plot"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        next_note = start + 30
        while proc.poll() is None:  # progress: a line every 30 s
            time.sleep(1)
            if time.time() >= next_note:
                next_note += 30
                print(f"    ... cross-validation {time.time() - start:.0f} s "
                      f"(log: {out}/rasa-test-nlu.log)", flush=True)
    report_path = out / "intent_report.json"
    if proc.returncode != 0 or not report_path.exists():
        return {"folds": folds, "accuracy": None,
                "error": f"rasa test nlu exited {proc.returncode}; see {out}/rasa-test-nlu.log"}
    report_data = json.loads(report_path.read_text(encoding="utf-8"))
    errors_path = out / "intent_errors.json"
    errors = json.loads(errors_path.read_text(encoding="utf-8")) if errors_path.exists() else []
    return {"folds": folds, "accuracy": report_data.get("accuracy"),
            "macro_f1": report_data["macro avg"]["f1-score"],
            "weighted_f1": report_data["weighted avg"]["f1-score"],
            **cv_crisis_rates(report_data, errors),
            "seconds": time.time() - start, "report": str(report_path.relative_to(ROOT))}


def cv_crisis_rates(report_data: dict[str, Any], errors: list[dict]) -> dict[str, Any]:
    """Crisis recall (any crisis intent counts) and false alarms from Rasa's CV report
    (supports per intent) and its error list (gold and predicted intent per error)."""
    n_crisis = sum(int(report_data.get(i, {}).get("support", 0)) for i in CRISIS)
    n_all = int(report_data.get("macro avg", {}).get("support", 0))
    missed = sum(e["intent"] in CRISIS and e["intent_prediction"]["name"] not in CRISIS
                 for e in errors)
    alarms = sum(e["intent"] not in CRISIS and e["intent_prediction"]["name"] in CRISIS
                 for e in errors)
    return {"n_crisis": n_crisis,
            "crisis_recall": 1 - missed / n_crisis if n_crisis else None,
            "crisis_false_alarm_rate": alarms / (n_all - n_crisis) if n_all > n_crisis else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot eval")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "parenting.tar.gz")
    parser.add_argument("--cross-validation", type=int, metavar="FOLDS", default=0,
                        help="also run Rasa's NLU cross-validation with this many folds "
                             "(about 2 minutes of training per fold on 2 cores)")
    parser.add_argument("--no-conversations", action="store_true",
                        help="skip the conversation tests (rasa test core)")
    args = parser.parse_args(argv)
    start = time.time()
    RESULTS.mkdir(exist_ok=True)
    print("[1/3] held-out NLU and crisis sets through the trained model ...", flush=True)
    results = evaluate(load_agent(args.model))
    if not args.no_conversations:
        print("[2/3] conversation tests (rasa test core on tests/test_stories.yml) ...",
              flush=True)
        results["conversations"] = conversation_eval.run(args.model, RESULTS / "core")
    if args.cross_validation:
        print(f"[3/3] NLU cross-validation, {args.cross_validation} folds (slow) ...",
              flush=True)
        results["cross_validation"] = cross_validation(args.cross_validation, RESULTS / "cv")
    h = results["holdout"]
    labels, counts = eval_report.confusion(h["gold"], h["pred"])
    results["holdout"]["confusion"] = {"labels": labels, "counts": counts}
    eval_report.write_scores(h["per_intent"], RESULTS)
    eval_report.plot_confusion(labels, counts, RESULTS / "confusion_matrix.png",
                               f"Held-out NLU set ({h['n']} messages): true vs predicted intent")
    (RESULTS / "eval.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(report(results))
    print("")
    print("\n".join(eval_report.summary(results)))
    print(f"(evaluated in {time.time() - start:.0f} s; results/eval.json, "
          "results/intent_scores.csv, results/confusion_matrix.png)")
    conv = results.get("conversations") or {}
    for name in conv.get("failed_names", []):
        print(f"  FAILED CONVERSATION: {name}")
    return crisis_gate(results)


def crisis_gate(results: dict[str, Any]) -> int:
    """Exit status of `make eval`: 1, loudly, when any crisis message was missed."""
    recall = results["crisis"]["recall"]
    if recall < 1.0:
        print(f"\nFAIL: crisis recall {recall:.3f} is below 1.000 on tests/eval/crisis_set.yml"
              f" ({len(results['crisis']['missed'])} missed, listed above); every crisis"
              " message must be recognised.", file=sys.stderr)
        return 1
    return 0
