"""Conversation tests' pass rate: tests/test_stories.yml through `rasa test core`.

Rasa predicts each conversation's actions with the trained model (custom actions do not
run in `rasa test`; their effects are written in the stories as slot_was_set), so no
action server is needed. A conversation passes when every action (and, for its
end-to-end user turns, the intent) is predicted as written.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from bot.settings import ROOT

STORIES = ROOT / "tests" / "test_stories.yml"


def story_names(path: Path) -> list[str]:
    """Story names of a Rasa stories file (empty if the file has none)."""
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [s.get("story", "") for s in data.get("stories") or []]


def pass_rate(total: int, failed: int) -> float:
    return (total - failed) / total if total else 0.0


def run(model: Path, out: Path, stories: Path = STORIES) -> dict[str, Any]:
    """Run `rasa test core` and count the conversations that failed."""
    out.mkdir(parents=True, exist_ok=True)
    rasa = Path(sys.executable).parent / "rasa"
    start = time.time()
    proc = subprocess.run(
        [str(rasa), "test", "core", "--model", str(model), "--stories", str(stories),
         "--out", str(out), "--no-plot"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800)
    (out / "rasa-test-core.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    total = len(story_names(stories))
    if proc.returncode != 0:
        return {"total": total, "failed": None, "pass_rate": None, "failed_names": [],
                "error": f"rasa test core exited {proc.returncode}; see {out}/rasa-test-core.log"}
    failed = story_names(out / "failed_test_stories.yml")
    return {"total": total, "failed": len(failed), "pass_rate": pass_rate(total, len(failed)),
            "failed_names": failed, "seconds": time.time() - start}
