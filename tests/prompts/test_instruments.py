from pathlib import Path

import pytest

from prompts.instruments import (
    STAGES,
    Instrument,
    InstrumentError,
    Scale,
    bundled_instrument_dir,
    load_instrument,
    load_instruments,
)

BUNDLED = bundled_instrument_dir()

GOOD = """\
key: custom
version: 2
name: {en: Custom pulse, de: Eigener Puls}
scale:
  min: 1
  max: 5
  anchors:
    1: {en: Strongly disagree}
    2: {en: Disagree}
    3: {en: Neither}
    4: {en: Agree}
    5: {en: Strongly agree}
items:
  - key: speak_up
    text: {en: I can speak up here., de: Ich kann mich hier äußern.}
    dimension: voice
    stage: challenger
  - key: left_out
    text: I am often left out.
    dimension: belonging
    stage: inclusion
    reverse: true
"""


def test_bundled_instruments_load() -> None:
    instruments = load_instruments()
    assert {"team_safety", "four_stages"} <= set(instruments)
    for key, instrument in instruments.items():
        assert instrument.key == key
        assert instrument.scale.points == [1, 2, 3, 4, 5, 6, 7]
        assert instrument.scale.favorable_from == 6
        assert instrument.name_for("en") and instrument.intro_for("en")
        for item in instrument.items:
            assert item.text_for("en").strip()
            assert item.dimension


def test_team_safety_has_seven_items_with_1_3_5_reversed() -> None:
    instrument = load_instrument(BUNDLED / "team_safety.yaml")
    assert instrument.key == "team_safety"
    assert len(instrument.items) == 7
    reversed_positions = [i + 1 for i, item in enumerate(instrument.items) if item.reverse]
    assert reversed_positions == [1, 3, 5]
    assert [item.key for item in instrument.items if item.reverse] == [
        "mistakes_held_against",
        "reject_different",
        "hard_to_ask_for_help",
    ]
    assert all(item.stage in STAGES for item in instrument.items)
    assert instrument.scale.midpoint == 4.0


def test_four_stages_covers_every_stage() -> None:
    instrument = load_instrument(BUNDLED / "four_stages.yaml")
    assert instrument.key == "four_stages"
    assert instrument.stages == list(STAGES)
    for stage in STAGES:
        assert len(instrument.items_for_stage(stage)) >= 2
    assert 1 <= sum(item.reverse for item in instrument.items) <= 2


def test_custom_file_and_helpers(tmp_path: Path) -> None:
    path = tmp_path / "custom.yaml"
    path.write_text(GOOD, encoding="utf-8")
    instrument = load_instrument(path)
    assert instrument.version == 2
    assert instrument.scale.favorable_from == 4  # "Agree" on 5 points, by default
    assert instrument.scale.midpoint == 3.0
    assert instrument.scale.reverse(5) == 1
    assert instrument.item("speak_up").text_for("de-CH") == "Ich kann mich hier äußern."
    assert instrument.item("speak_up").text_for("fr") == "I can speak up here."
    assert instrument.item("left_out").text == {"en": "I am often left out."}
    assert instrument.name_for("de") == "Eigener Puls"
    assert instrument.stages == ["inclusion", "challenger"]
    assert [i.key for i in instrument.items_for_stage("learner")] == []
    with pytest.raises(KeyError):
        instrument.item("nope")


def test_scale_defaults_to_seven_points_with_anchors() -> None:
    instrument = Instrument.model_validate(
        {
            "key": "k",
            "version": 1,
            "name": "K",
            "items": [{"key": "a", "text": "A", "dimension": "d"}],
        }
    )
    assert instrument.scale.points == list(range(1, 8))
    assert instrument.scale.anchor_for(6) == "Agree"
    assert instrument.scale.favorable_from == 6
    assert Scale.model_validate({"min": 1, "max": 5}).anchor_for(4) == "Agree"


def test_models_are_frozen() -> None:
    instrument = load_instrument(BUNDLED / "team_safety.yaml")
    with pytest.raises(ValueError):
        instrument.key = "other"  # type: ignore[misc]


def test_admin_dir_adds_instruments(tmp_path: Path) -> None:
    (tmp_path / "custom.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not an instrument", encoding="utf-8")
    instruments = load_instruments([tmp_path])
    assert set(instruments) == {"team_safety", "four_stages", "custom"}


def test_admin_file_reusing_a_bundled_key_is_refused(tmp_path: Path) -> None:
    clash = tmp_path / "mine.yml"
    clash.write_text("# ours\n" + GOOD.replace("key: custom", "key: team_safety"), "utf-8")
    with pytest.raises(InstrumentError) as caught:
        load_instruments([tmp_path])
    assert caught.value.file == clash
    assert caught.value.line == 2
    assert "team_safety" in caught.value.reason and "already defined" in caught.value.reason


def test_missing_admin_dir_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InstrumentError, match="directory not found"):
        load_instruments([tmp_path / "nowhere"])


HEADER = "key: bad\nversion: 1\nname: Bad\n"  # lines 1-3
ITEM = "  - key: a\n    text: A\n    dimension: d\n"  # 3 lines


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        pytest.param(
            "key: bad\nversion: 1\nname: {en: Bad\nitems: []\n",
            4,
            "invalid YAML: expected ',' or '}', but got ':' "
            "(while parsing a flow mapping on line 3)",
            id="syntax-error",
        ),
        pytest.param(HEADER + "items:\n  - key: a\n\ttext: A\n", 6, None, id="tab"),
        pytest.param("", 1, "file is empty", id="empty"),
        pytest.param("- just\n- a list\n", 1, "must be a mapping", id="not-a-mapping"),
        pytest.param(HEADER, 1, "items: required field is missing", id="no-items-field"),
        pytest.param(
            HEADER + "items: []\n", 4, "items: must have at least one item", id="no-items"
        ),
        pytest.param(
            HEADER
            + "items:\n"
            + ITEM
            + ITEM.replace(": a", ": b")
            + ITEM.replace(": a", ": c")
            + "    reverse: maybe\n",
            14,
            "items[2].reverse: must be true or false",
            id="reverse-not-bool",
        ),
        pytest.param(
            HEADER + "scale:\n  min: 1\n  max: 10\nitems:\n" + ITEM,
            6,
            "scale.max: scale must be 1–5 or 1–7",
            id="scale-1-10",
        ),
        pytest.param(
            HEADER + "scale:\n  min: 0\n  max: 7\nitems:\n" + ITEM,
            5,
            "scale.min: scale must start at 1",
            id="scale-from-0",
        ),
        pytest.param(
            HEADER
            + "scale:\n  min: 1\n  max: 5\n  anchors:\n"
            + "    1: {en: a}\n    2: {en: b}\n    4: {en: d}\n    5: {en: e}\n"
            + "items:\n"
            + ITEM,
            7,
            "scale.anchors: missing a label for point 3",
            id="anchor-missing",
        ),
        pytest.param(
            HEADER
            + "scale:\n  min: 1\n  max: 5\n  anchors:\n"
            + "    1: {en: a}\n    2: {en: b}\n    3: {de: c}\n    4: {en: d}\n    5: {en: e}\n"
            + "items:\n"
            + ITEM,
            10,
            "scale.anchors[3]: English ('en') label is required",
            id="anchor-without-english",
        ),
        pytest.param(
            HEADER + "scale:\n  min: 1\n  max: 5\n  favorable_from: 6\nitems:\n" + ITEM,
            7,
            "scale.favorable_from: must be between 2 and 5",
            id="favorable-out-of-range",
        ),
        pytest.param(
            HEADER + "items:\n" + ITEM + ITEM.replace(": A", ": B"),
            8,
            "items[1].key: duplicate item key 'a'",
            id="duplicate-item-key",
        ),
        pytest.param(
            HEADER + "items:\n  - key: a\n    text:\n      de: Hallo\n    dimension: d\n",
            6,
            "items[0].text: English ('en') text is required",
            id="missing-english-text",
        ),
        pytest.param(
            HEADER + "items:\n" + ITEM + "    stage: trust\n",
            8,
            "items[0].stage: must be one of 'inclusion', 'learner', 'contributor' or 'challenger'",
            id="unknown-stage",
        ),
        pytest.param(
            HEADER + "items:\n  - key: a\n    text: A\n",
            5,
            "items[0].dimension: required field is missing",
            id="missing-field",
        ),
        pytest.param(
            HEADER.replace("version: 1", 'version: "1"') + "items:\n" + ITEM,
            2,
            "version: must be a whole number",
            id="wrong-type",
        ),
        pytest.param(
            HEADER + "items:\n" + ITEM + "    revers: true\n",
            8,
            "items[0].revers: unknown field",
            id="typo-field",
        ),
        pytest.param(
            HEADER + "items:\n" + ITEM + "    dimension: e\n",
            8,
            "items[0].dimension: key appears twice",
            id="yaml-duplicate-key",
        ),
        pytest.param(
            "key: !!python/object/apply:os.system [echo hi]\n",
            1,
            None,
            id="unsafe-tag",
        ),
    ],
)
def test_bad_files_are_refused_with_file_line_and_reason(
    tmp_path: Path, body: str, line: int, reason: str | None
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(InstrumentError) as caught:
        load_instrument(path)
    error = caught.value
    assert error.file == path
    assert error.line == line
    if reason is None:
        assert error.reason.startswith("invalid YAML: ")
    else:
        assert error.reason == reason
    assert str(error) == f"broken.yaml:{line}: {error.reason}"
    assert isinstance(error, ValueError)
