"""Fuzzing the organisation file and instrument loaders: whatever text an admin writes,
the answer is a validated file or a ConfigError / InstrumentError naming the file,
never another exception. Bounded (max_examples) to keep CI quick."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.config.apply import ConfigError
from handlers.config.loader import load_text
from prompts.instruments import InstrumentError, load_instrument
from tests.prompts.test_instruments import GOOD
from tests.support.config import BASE

FUZZ = settings(max_examples=120, deadline=2000, suppress_health_check=[HealthCheck.too_slow])

# Text that YAML and our fields treat specially: dates, times, anchors, aliases, tags,
# flow collections, escapes, numbers of every size.
SPECIAL = st.sampled_from(
    [
        "2026-02-30",
        "2026-12-01T25:00:00+01:00",
        "25:00",
        "9:00",
        "1e999",
        "0x1F",
        "99999999999999999999999",
        "-1",
        ".nan",
        ".inf",
        "~",
        "null",
        "true",
        "no",
        "&a [1]",
        "*a",
        "*undefined",
        "!!python/object:os.system",
        "!!binary AAAA",
        "[",
        "{",
        "}",
        "]",
        '"\\0"',
        '"\\x00"',
        '"\\uD800"',
        "'",
        '"',
        "|",
        ">",
        "- ",
        ": ",
        "#",
        "%YAML 1.1",
        "---",
        "...",
        "<<: *a",
        "? ",
        "\t",
        "\ufeff",
        "é",
    ]
)
VALUE = st.one_of(SPECIAL, st.text(max_size=30), st.integers().map(str))


def lines_of(text: str) -> list[str]:
    return text.splitlines()


@st.composite
def edited(draw: st.DrawFn, text: str) -> str:
    """`text` with a few lines' values replaced, lines dropped or junk lines added."""
    lines = lines_of(text)
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        line = lines[index]
        action = draw(st.sampled_from(["value", "drop", "insert", "indent"]))
        if action == "value" and ":" in line:
            key = line.split(":", 1)[0]
            lines[index] = f"{key}: {draw(VALUE)}"
        elif action == "drop" and len(lines) > 1:
            del lines[index]
        elif action == "insert":
            lines.insert(index, draw(VALUE))
        else:
            lines[index] = " " * draw(st.integers(0, 6)) + line.lstrip()
    return "\n".join(lines) + "\n"


@FUZZ
@given(edited(BASE))
def test_any_edit_of_an_organisation_file_loads_or_is_refused_cleanly(text: str) -> None:
    try:
        load_text(text, "org.yaml")
    except ConfigError as error:
        assert error.file == "org.yaml" and error.reason
        assert error.line is None or 1 <= error.line <= text.count("\n") + 2


@FUZZ
@given(st.text(max_size=300))
def test_any_text_as_an_organisation_file_loads_or_is_refused_cleanly(text: str) -> None:
    try:
        load_text(text, "org.yaml")
    except ConfigError as error:
        assert error.file == "org.yaml" and error.reason


@FUZZ
@given(edited(GOOD))
def test_any_edit_of_an_instrument_file_loads_or_is_refused_cleanly(text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "custom.yaml"
        try:
            path.write_text(text, encoding="utf-8")
        except UnicodeEncodeError:  # a lone surrogate: not a file anyone can write
            return
        try:
            load_instrument(path)
        except InstrumentError as error:
            assert error.file == path and error.reason
