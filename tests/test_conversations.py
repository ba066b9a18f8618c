"""Test conversations (tests/test_stories.yml) through `rasa test core` on the trained model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_conversation_is_predicted(tmp_path):
    rasa = Path(sys.executable).parent / "rasa"
    result = subprocess.run(
        [str(rasa), "test", "core", "--model", "models/parenting.tar.gz",
         "--stories", "tests/test_stories.yml", "--fail-on-prediction-errors",
         "--out", str(tmp_path / "core"), "--no-plot"],
        cwd=ROOT, capture_output=True, text=True, timeout=900)
    failed = tmp_path / "core" / "failed_test_stories.yml"
    detail = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, (result.stdout[-2000:] + result.stderr[-3000:] + detail)
