"""The soak benchmark works (bench/soak_bench.py, scaled down to ~20 s): mixed signed
Slack traffic against a running server while a fan-out goes out. Its figures are
checked loosely (no timing goals here: those belong to `make bench`)."""

from __future__ import annotations

from bench.figures import Figure
from bench.soak_bench import report, run


async def test_a_short_soak_answers_everything_while_the_fan_out_goes_on() -> None:
    result = await run(seconds=20, people=60, concurrency=20, rate=40, postgres=None)
    assert result["errors"] == 0, result["error kinds"]
    assert result["requests"] >= 400  # the load ran for its whole duration
    assert set(result["by kind"]) == {"click", "command", "event"}
    assert result["invites posted"] > 0  # the fan-out went out meanwhile
    assert 0 < result["rss warm MiB"] and 0 < result["rss end MiB"]
    text, figures = report(result)
    assert "errors: 0" in text
    names = {f.figure for f in figures}
    assert {"errors", "latency p99", "RSS at the end vs after warm-up"} <= names
    [memory] = [f for f in figures if f.figure.startswith("RSS")]
    assert isinstance(memory, Figure) and memory.ratio is not None
