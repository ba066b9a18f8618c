"""`make benchmark`: how fast the trained model parses messages (prints numbers).

Latency is measured here, never asserted in a test: timings depend on the machine.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from bot.evaluate import EVAL_DIR, load_agent
from bot.nlu_data import read_examples
from bot.settings import ROOT


def main() -> int:
    agent = load_agent(ROOT / "models" / "parenting.tar.gz")
    texts = [t for t, _ in read_examples(EVAL_DIR / "nlu_holdout.yml")]
    texts += [t for t, _ in read_examples(EVAL_DIR / "crisis_set.yml")]
    texts.append("x" * 20000)

    async def run() -> list[float]:
        await agent.parse_message("warm up")
        times = []
        for text in texts:
            start = time.perf_counter()
            await agent.parse_message(text)
            times.append((time.perf_counter() - start) * 1000)
        return times

    times = sorted(asyncio.run(run()))
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"NLU parse latency over {len(times)} messages (whole pipeline incl. safety net):")
    print(f"  median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, "
          f"max {times[-1]:.1f} ms (the 20,000-character message)")
    print(_overlong_check(agent))
    return 0


def _overlong_check(agent: object) -> str:
    """The crisis check an over-long message gets before the kind "too long" answer."""
    from bot.message_limits import riskiest_part
    from bot.settings import load_settings

    size = load_settings().max_message_chars
    text = ("We went to the park, then had dinner and a bath, and read two books. " * 290)
    start = time.perf_counter()
    found = asyncio.run(riskiest_part(text, size, agent.parse_message))  # type: ignore[attr-defined]
    took = (time.perf_counter() - start) * 1000
    return (f"crisis check of a {len(text):,}-character message in parts of {size}: "
            f"{took:.0f} ms ({'crisis found' if found else 'no crisis'})")
