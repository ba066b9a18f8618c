"""The pure parts of `make bench` and `make eval`: statistics, ratios and targets, the
load plan, the result files. The benchmark itself is run by `make bench`, never here."""

from __future__ import annotations

import csv
import json
import os

import pytest

from bot import bench_load, bench_stats, conversation_eval, eval_report, proc_memory


def test_percentile_interpolates_between_ranks():
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert bench_stats.percentile(values, 50) == pytest.approx(10.5)
    assert bench_stats.percentile(values, 95) == pytest.approx(19.05)
    assert bench_stats.percentile([7.0], 95) == 7.0
    assert bench_stats.percentile([3.0, 1.0, 2.0], 0) == 1.0
    with pytest.raises(ValueError):
        bench_stats.percentile([], 50)


def test_latency_summary_counts_throughput():
    summary = bench_stats.latency_summary([10.0, 20.0, 30.0, 40.0], wall_s=2.0)
    assert summary["n"] == 4 and summary["max_ms"] == 40.0
    assert summary["throughput_msg_s"] == pytest.approx(2.0)
    assert summary["p50_ms"] == pytest.approx(25.0)


def test_verdicts_hold_the_issue_targets():
    stock = {"parse_p95_ms": 10.0, "webhook_c1_p95_ms": 20.0, "webhook_c16_p95_ms": 100.0,
             "rasa_rss_mb": 1000.0}
    ours = {"parse_p95_ms": 13.5, "webhook_c1_p95_ms": 40.0, "webhook_c16_p95_ms": 150.0,
            "rasa_rss_mb": 1100.0, "training_s": 320.0}
    rows = {r["metric"]: r for r in bench_stats.verdicts(ours, stock)}
    assert rows["parse_p95_ms"]["ratio"] == pytest.approx(1.35)
    assert rows["parse_p95_ms"]["met"] is False          # 1.35x > 1.3x
    assert rows["webhook_c1_p95_ms"]["met"] is True       # exactly 2x is allowed
    assert rows["webhook_c16_p95_ms"]["met"] is True
    assert rows["rasa_rss_mb"]["met"] is True              # 1.1x <= 1.2x
    assert rows["training_limit"]["met"] is False          # 320 s is over 5 minutes
    assert rows["parse_p50_ms"]["met"] is None             # no target, no data
    assert bench_stats.ratio(1.0, 0.0) is None and bench_stats.ratio(None, 2.0) is None


def test_table_shows_both_values_ratio_and_missed_targets():
    rows = bench_stats.verdicts({"parse_p95_ms": 26.0, "training_s": 200.0},
                                {"parse_p95_ms": 10.0})
    text = bench_stats.table(rows)
    line = next(x for x in text.splitlines() if x.startswith("/model/parse p95"))
    assert "26.0" in line and "10.0" in line and "2.60x" in line and "MISSED" in line
    assert "our full training under 5 min" in text and " ok" in text


def test_conversation_lanes_never_share_a_conversation():
    texts = [f"message {i}" for i in range(100)]
    lanes = bench_load.conversation_lanes(texts, 16, turns=4)
    assert len(lanes) == 16
    assert sorted(p["message"] for lane in lanes for p in lane) == sorted(texts)
    owners: dict[str, int] = {}
    for n, lane in enumerate(lanes):
        for payload in lane:
            assert owners.setdefault(payload["sender"], n) == n
            assert len(payload["sender"]) == 32
    assert max(sum(p["sender"] == s for lane in lanes for p in lane) for s in owners) == 4
    assert len(bench_load.conversation_lanes(texts[:3], 16)) == 3


def test_rss_of_this_process_is_read_from_proc():
    if not os.path.exists("/proc/self/status"):
        pytest.skip("no /proc on this system")
    assert proc_memory.rss_mb(os.getpid()) > 10
    assert proc_memory.rss_mb(os.getpid(), "VmHWM") >= proc_memory.rss_mb(os.getpid()) * 0.9
    assert proc_memory.rss_mb(2 ** 22 + 7) == 0  # no such process


def test_confusion_scores_and_picture_are_written(tmp_path):
    gold = ["greet", "greet", "thank", "deny"]
    pred = ["greet", "thank", "thank", "nlu_fallback"]
    labels, counts = eval_report.confusion(gold, pred)
    assert labels == ["deny", "greet", "thank", "nlu_fallback"]
    assert counts[labels.index("greet")][labels.index("thank")] == 1
    assert counts[labels.index("deny")][labels.index("nlu_fallback")] == 1
    assert sum(map(sum, counts)) == 4
    scores = {"greet": {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}}
    eval_report.write_scores(scores, tmp_path)
    assert json.loads((tmp_path / "intent_scores.json").read_text()) == scores
    rows = list(csv.DictReader(open(tmp_path / "intent_scores.csv")))
    assert rows == [{"intent": "greet", "precision": "1.0000", "recall": "0.5000",
                     "f1": "0.6667", "support": "2"}]
    eval_report.plot_confusion(labels, counts, tmp_path / "cm.png", "test")
    assert (tmp_path / "cm.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_conversation_pass_rate_counts_failed_stories(tmp_path):
    stories = tmp_path / "stories.yml"
    stories.write_text('version: "3.1"\nstories:\n- story: a\n  steps: []\n'
                       '- story: b\n  steps: []\n')
    assert conversation_eval.story_names(stories) == ["a", "b"]
    none_failed = tmp_path / "failed.yml"
    none_failed.write_text("# None of the test stories failed - all good!")
    assert conversation_eval.story_names(none_failed) == []
    assert conversation_eval.story_names(tmp_path / "missing.yml") == []
    assert conversation_eval.pass_rate(4, 1) == 0.75 and conversation_eval.pass_rate(0, 0) == 0


def test_action_server_does_not_load_spacy_or_tensorflow():
    """The action server only reads YAML and the database; spaCy brings TensorFlow along
    (through thinc), which cost it about 600 MB of memory (found by `make bench`)."""
    import subprocess
    import sys

    code = ("import importlib, pkgutil, sys, actions\n"
            "for m in pkgutil.iter_modules(actions.__path__):\n"
            "    importlib.import_module('actions.' + m.name)\n"
            "print(sorted(k for k in ('spacy', 'tensorflow', 'rasa') if k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=conversation_eval.ROOT,
                         env={**os.environ, "PYTHONPATH": str(conversation_eval.ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def test_split_even_keeps_order_and_balances_slices():
    items = list(range(10))
    parts = bench_stats.split_even(items, 4)
    assert [len(p) for p in parts] == [3, 3, 2, 2]
    assert [x for p in parts for x in p] == items
    assert bench_stats.split_even([1, 2], 4) == [[1], [2]]


def test_cross_validation_crisis_rates_count_any_crisis_intent():
    from bot.evaluate import cv_crisis_rates

    report = {"crisis_self_harm": {"support": 6}, "crisis_danger": {"support": 4},
              "greet": {"support": 90}, "macro avg": {"support": 100}}
    errors = [  # a crisis read as another crisis type is still caught
        {"intent": "crisis_self_harm", "intent_prediction": {"name": "crisis_danger"}},
        {"intent": "crisis_danger", "intent_prediction": {"name": "possible_crisis"}},
        {"intent": "greet", "intent_prediction": {"name": "crisis_danger"}},
        {"intent": "greet", "intent_prediction": {"name": "thank"}},
    ]
    rates = cv_crisis_rates(report, errors)
    assert rates["n_crisis"] == 10
    assert rates["crisis_recall"] == pytest.approx(0.9)
    assert rates["crisis_false_alarm_rate"] == pytest.approx(1 / 90)


def test_eval_fails_loudly_when_a_crisis_is_missed(capsys):
    from bot.evaluate import crisis_gate

    missed = {"text": "x", "gold": "crisis_self_harm", "pred": "greet"}
    assert crisis_gate({"crisis": {"recall": 119 / 120, "missed": [missed]}}) == 1
    assert "FAIL: crisis recall 0.992" in capsys.readouterr().err
    assert crisis_gate({"crisis": {"recall": 1.0, "missed": []}}) == 0
    assert capsys.readouterr().err == ""


def test_eval_summary_names_each_blind_set():
    from bot.eval_report import summary

    results = {
        "holdout": {"accuracy": 0.9, "macro_f1": 0.8, "n": 10},
        "crisis": {"recall": 1.0, "n_crisis": 5, "false_alarm_rate": 0.0, "n_ordinary": 5},
        "blind_sets": {"crisis_blind2.yml": {
            "recall": 0.75, "n_crisis": 4,
            "ordinary": {"false_alarm_rate": 0.125, "n": 8}}},
    }
    lines = "\n".join(summary(results))
    assert "crisis_blind2.yml (blind): crisis recall 0.750 (4), false alarms 0.125 (8" in lines


def test_eval_summary_names_each_blind_intent_set():
    from bot.eval_report import summary

    results = {
        "holdout": {"accuracy": 0.9, "macro_f1": 0.8, "n": 10},
        "crisis": {"recall": 1.0, "n_crisis": 5, "false_alarm_rate": 0.0, "n_ordinary": 5},
        "blind_intent_sets": {"nlu_blind1.yml": {
            "accuracy": 0.8, "concern_accuracy": 0.75, "macro_f1": 0.7, "n": 20}},
    }
    lines = "\n".join(summary(results))
    assert ("nlu_blind1.yml (blind intents): accuracy 0.800, concerns and questions 0.750,"
            " macro F1 0.700 (20 messages)") in lines


def test_intent_scores_counts_errors_and_crisis_alarms(monkeypatch):
    from bot import evaluate

    preds = {"a": "concern_yelling", "b": "crisis_danger", "c": "greet"}
    monkeypatch.setattr(evaluate, "parse_all", lambda agent, texts: [
        {"intent": {"name": preds[t]}} for t in texts])
    out = evaluate.intent_scores(None, [("a", "concern_yelling"), ("b", "concern_tantrums"),
                                        ("c", "greet")])
    assert out["accuracy"] == 2 / 3
    assert out["concern_accuracy"] == 1 / 2
    assert out["false_alarm_rate"] == 1 / 3
    assert out["errors"] == [{"text": "b", "gold": "concern_tantrums", "pred": "crisis_danger"}]


def test_intent_scores_false_alarms_leave_out_the_sets_own_crises(monkeypatch):
    from bot import evaluate

    preds = {"a": "crisis_self_harm", "b": "crisis_danger", "c": "greet", "d": "thank"}
    monkeypatch.setattr(evaluate, "parse_all", lambda agent, texts: [
        {"intent": {"name": preds[t]}} for t in texts])
    out = evaluate.intent_scores(None, [("a", "crisis_self_harm"), ("b", "concern_tantrums"),
                                        ("c", "greet"), ("d", "thank")])
    assert out["false_alarm_rate"] == 1 / 3
