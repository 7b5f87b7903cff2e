"""Config and instrument files within bounds: alias bombs, recursive aliases, deep
nesting, impossible dates and times, NUL characters and oversized files are refused
with file, line and field, before anything is stored, and never end in a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.config.apply import ConfigError
from handlers.config.loader import load_file, load_text
from prompts.instruments import InstrumentError, load_instrument
from prompts.yaml_input import MAX_BYTES
from storage.core.db import Database
from tests.prompts.test_instruments import GOOD
from tests.support.config import BASE, apply, edit, snapshot


def alias_bomb(levels: int = 20, width: int = 9) -> str:
    """`width ** levels` values once expanded (9 ** 20 ≈ 1.2e19), in 20 short lines."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def refused(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_text(text, "org.yaml")
    return caught.value


def test_an_alias_bomb_is_refused_at_the_alias_that_crosses_the_limit() -> None:
    # Expanded, this document has ~1e19 values: refused while composing, not hanging.
    error = refused(alias_bomb())
    # Line 6 is l5: its aliases of l4 (9 ** 5 values each) cross 200,000.
    assert error.file == "org.yaml" and error.line == 6
    assert "larger than 200,000 values with aliases expanded" in error.reason


def test_an_alias_bomb_under_a_config_section_is_refused_the_same() -> None:
    bomb = "".join(f"  {line}\n" for line in alias_bomb().splitlines())
    error = refused(BASE + "sessions:\n" + bomb)
    assert error.line is not None and error.line > BASE.count("\n")
    assert "alias bomb" in error.reason


def test_modest_aliases_still_work() -> None:
    text = edit(
        BASE,
        'working_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "18:00"}',
        'working_hours: &office {days: [mon, tue, wed, thu, fri], start: "09:00", end: "18:00"}',
    )
    text = edit(text, "    name: Cora Lind\n", "    name: Cora Lind\n    working_hours: *office\n")
    loaded = load_text(text, "org.yaml")
    cora = next(p for p in loaded.config.people if p.handle == "cora")
    assert cora.working_hours is not None and cora.working_hours.start == "09:00"


def test_a_recursive_alias_is_refused() -> None:
    error = refused("workspaces: &loop\n  - *loop\n")
    assert (error.line, error.reason) == (
        2,
        "invalid YAML: alias *loop is used inside the value it names",
    )


def test_deep_nesting_is_refused_before_python_runs_out_of_stack() -> None:
    error = refused("workspaces: " + "[" * 5000 + "]" * 5000 + "\n")
    assert error.line == 1 and "nested deeper than 64 levels" in error.reason


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "holidays: [2026-12-25, 2026-12-24]",
            "holidays: [2026-12-25, 2026-02-30]",
            "org.yaml:7: workspaces[0].holidays[1]: '2026-02-30' is not a real date or time "
            "(day is out of range for month)",
            id="february-30",
        ),
        pytest.param(
            "until: 2027-01-03",
            "until: 2027-13-03",
            "org.yaml:31: people[2].leave.until: '2027-13-03' is not a real date or time "
            "(month must be in 1..12)",
            id="month-13",
        ),
        pytest.param(
            "snoozed_until: 2026-12-01T09:00:00+01:00",
            "snoozed_until: 2026-12-01T25:00:00+01:00",
            "org.yaml:35: people[3].snoozed_until: '2026-12-01T25:00:00+01:00' is not a real "
            "date or time (hour must be in 0..23)",
            id="hour-25",
        ),
        pytest.param(
            "snoozed_until: 2026-12-01T09:00:00+01:00",
            'snoozed_until: "2026-02-30T09:00:00+01:00"',
            "org.yaml:35: people[3].snoozed_until: must be a date and time, "
            "e.g. 2026-12-01T09:00:00+01:00",
            id="quoted-february-30",
        ),
        pytest.param(
            'start: "08:00"',
            "start: 25:00",
            "org.yaml:26: people[1].working_hours.start: '25:00' is not a time HH:MM",
            id="clock-25",
        ),
        pytest.param(
            "name: Ben Okoro",
            'name: "Ben\\0Okoro"',
            "org.yaml:22: people[1].name: text must not contain a NUL character (\\0)",
            id="nul",
        ),
    ],
)
async def test_impossible_dates_times_and_nul_are_refused_with_file_line_and_field(
    db: Database, old: str, new: str, expected: str
) -> None:
    before = await snapshot(db)
    with pytest.raises(ConfigError) as caught:
        await apply(db, edit(BASE, old, new))
    assert str(caught.value) == expected
    assert await snapshot(db) == before  # nothing stored


def test_a_file_over_the_size_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    # Not even valid YAML: the size alone refuses it, so it was never parsed.
    path = tmp_path / "org.yaml"
    path.write_text("workspaces: [" + "x" * MAX_BYTES + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_file(path)
    assert caught.value.file == str(path) and caught.value.line is None
    assert "more than the limit of 1,048,576 bytes (1 MiB)" in caught.value.reason
    with pytest.raises(ConfigError, match="1 MiB"):
        load_text("#" * (MAX_BYTES + 1), "org.yaml")


def test_a_file_at_the_size_limit_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(BASE + "#" * (MAX_BYTES - len(BASE) - 1) + "\n", encoding="utf-8")
    assert path.stat().st_size == MAX_BYTES
    assert load_file(path).config.workspaces[0].key == "acme"


# --- instrument files: the same loader, the same refusals -----------------------------


def instrument_error(tmp_path: Path, text: str) -> InstrumentError:
    path = tmp_path / "custom.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InstrumentError) as caught:
        load_instrument(path)
    return caught.value


def test_instrument_alias_bomb_recursion_and_nesting_are_refused(tmp_path: Path) -> None:
    bomb = instrument_error(
        tmp_path, GOOD + "extra:\n" + "".join(f"  {line}\n" for line in alias_bomb().splitlines())
    )
    assert bomb.line is not None and "alias bomb" in bomb.reason
    loop = instrument_error(tmp_path, "key: &k [*k]\n")
    assert loop.line == 1 and "used inside the value it names" in loop.reason
    deep = instrument_error(tmp_path, "key: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n")
    assert "nested deeper" in deep.reason


def test_instrument_impossible_date_and_nul_name_the_field(tmp_path: Path) -> None:
    error = instrument_error(tmp_path, edit(GOOD, "text: I am often left out.", "text: 2026-02-30"))
    assert str(error) == (
        "custom.yaml:19: items[1].text: '2026-02-30' is not a real date or time "
        "(day is out of range for month)"
    )
    nul = instrument_error(tmp_path, edit(GOOD, "dimension: voice", 'dimension: "vo\\0ice"'))
    assert (
        str(nul)
        == "custom.yaml:16: items[0].dimension: text must not contain a NUL character (\\0)"
    )


def test_instrument_file_over_the_size_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    error = instrument_error(tmp_path, "{" * (MAX_BYTES + 1))
    assert error.line is None and "1 MiB" in error.reason
