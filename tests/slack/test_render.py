"""Rendering to Block Kit: every payload parses and validates with slack_sdk's block
models, respects Block Kit's limits, and escapes what people typed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlmodel import select

from bot.app import Pulsecoach
from bot.core.messages import (
    Button,
    Buttons,
    Choice,
    Context,
    Divider,
    Field_,
    Fields,
    Image,
    Message,
    Question,
    Text,
    TextInput,
)
from bot.slack import forms
from bot.slack.blockkit import clip, escape
from bot.slack.render import (
    form_modal,
    neutral_action,
    ref_of_block,
    render_home,
    render_message,
)
from handlers.digests.content import DigestContent
from handlers.digests.send import DigestOptions
from handlers.digests.view import digest_message
from handlers.home.admin import admin_message
from handlers.home.commands import help_message
from handlers.pulse.results import results_message, team_results
from handlers.pulse.view import (
    closed_message,
    paused_message,
    pulse_message,
    status_message,
)
from prompts.instruments import load_instruments
from storage.core.models import Team
from storage.pulse.models import PulseRound
from tests.support.clock import FakeClock
from tests.support.digests import SIX, add_round, org_with_history, send

INSTRUMENTS = load_instruments()
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def a_round(items: int = 7) -> PulseRound:
    keys = [i.key for i in INSTRUMENTS["team_safety"].items][:items]
    return PulseRound(
        id=12,
        program_id=1,
        team_id=1,
        number=3,
        kind="manual",
        item_keys=keys,
        privacy="anonymous",
        min_respondents=3,
        min_comments=5,
        opened_at=NOW,
        closes_at=NOW + timedelta(hours=72),
        closed_at=NOW + timedelta(hours=72),
    )


def validate_blocks(blocks: list[dict[str, Any]], limit: int) -> None:
    """Round-trips every block through slack_sdk's models (which validate on to_dict)
    and checks the limits those models leave out."""
    assert 0 < len(blocks) <= limit
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))
    for block in blocks:
        assert Block.parse(block).to_dict() == block, block  # type: ignore[union-attr]
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "actions":
            ids = [e["action_id"] for e in block["elements"]]
            assert len(ids) == len(set(ids)) and len(ids) <= 25
            assert all(len(e.get("value", "")) <= 2000 for e in block["elements"])
        if block["type"] == "context":
            assert len(block["elements"]) <= 10


def validate_message(message: Message) -> dict[str, Any]:
    payload = render_message(message).payload()
    validate_blocks(payload["blocks"], 50)
    assert 0 < len(payload["text"]) <= 3000
    return payload


def test_every_pulse_message_renders_valid_blocks() -> None:
    instrument = INSTRUMENTS["team_safety"]
    tz = ZoneInfo("Europe/Berlin")
    round_ = a_round()
    mine = {round_.item_keys[0]: 6}
    for message in (
        pulse_message(round_, "Leadership", instrument, tz, {}),
        pulse_message(round_, "Leadership", instrument, tz, mine, "A comment <here>"),
        closed_message(round_, "Leadership", tz, 7, 5),
        status_message(12, "Skipped"),
        paused_message(1, "Leadership"),
        help_message(),
        admin_message("leadership", "Leadership", {"window_hours": "72", "privacy": "anonymous"}),
    ):
        validate_message(message)


def test_scale_buttons_carry_the_neutral_click_and_show_the_choice() -> None:
    question = Question(
        action_id="contract.rate",
        prompt="How well did we live it?",
        choices=tuple(Choice(value=str(n), label=str(n)) for n in range(1, 6)),
        selected="3",
        value_prefix="12:norm:",
        low_label="Not at all",
        high_label="Fully",
    )
    message = Message(ref="contract:12", text="check", blocks=(question, question))
    blocks = validate_message(message)["blocks"]
    row = next(b for b in blocks if b["type"] == "actions")
    assert [neutral_action(e["action_id"]) for e in row["elements"]] == ["contract.rate"] * 5
    assert next(e["value"] for e in row["elements"]) == "12:norm:1"
    chosen = [e for e in row["elements"] if e.get("style") == "primary"]
    assert [e["text"]["text"] for e in chosen] == ["✓ 3"]
    assert ref_of_block(row["block_id"]) == "contract:12"
    anchors = [b for b in blocks if b["type"] == "context" and "=" in json.dumps(b)]
    assert len(anchors) == 1  # the scale's anchors are said once


def test_user_text_is_escaped_everywhere() -> None:
    said = "<!channel> ping & <https://evil.test|click me>"
    message = Message(
        ref="x",
        text=said,
        blocks=(
            Text(text=said),
            Context(lines=(said,)),
            Fields(fields=(Field_(label=said, value=said),)),
        ),
    )
    rendered = json.dumps(validate_message(message))
    assert "<!channel>" not in rendered and "<https://" not in rendered
    assert "&lt;!channel&gt; ping &amp; &lt;https://evil.test|click me&gt;" in rendered


def test_limits_shorten_instead_of_failing() -> None:
    long = "word " * 2000
    blocks = (
        Text(text="H" * 200, style="heading"),  # too long for a header: a bold section
        Text(text=long),
        Fields(fields=tuple(Field_(label=f"f{i}", value=long) for i in range(15))),
        Context(lines=tuple(f"line {i}" for i in range(25))),
        Buttons(
            buttons=tuple(Button(action_id="a.b", value=str(i), label="L" * 100) for i in range(30))
        ),
        Buttons(buttons=(Button(action_id="too.big", value="v" * 2001, label="x"),)),
        Image(url="data:image/svg+xml;base64,AAAA", alt="chart"),
        Image(url="https://charts.test/c.png", alt="chart"),
        Image(url="http://charts.test/c.png", alt="not https"),
        Image(url="https://127.0.0.1:8000/charts/1.png", alt="not reachable by Slack"),
        *[Divider() for _ in range(60)],
    )
    payload = validate_message(Message(ref="big", text=long, blocks=blocks))
    kinds = [b["type"] for b in payload["blocks"]]
    assert (
        len(kinds) == 50
        and kinds[-1] == "context"
        and "shortened" in json.dumps(payload["blocks"][-1])
    )
    assert kinds[0] == "section" and kinds.count("image") == 1
    assert "too.big" not in json.dumps(payload)
    assert len(payload["blocks"][1]["text"]["text"]) == 3000
    assert payload["blocks"][1]["text"]["text"].endswith("…")


def test_home_and_modals_validate_as_views_within_100_blocks() -> None:
    cards = [help_message() for _ in range(40)]
    home = render_home(cards, banner="Saved <ok>")
    View(**home).to_dict()
    validate_blocks(home["blocks"], 100)
    assert len(home["blocks"]) == 100
    form = admin_message("leadership", "Leadership", {"window_hours": "72", "privacy": "x"})
    modal = form_modal(form, {"a": "admin.save", "v": "leadership"})
    assert modal is not None
    assert View(**modal).to_dict()["submit"]["text"] == "Save changes"
    inputs = {b["block_id"]: b["element"] for b in modal["blocks"] if b["type"] == "input"}
    assert len(inputs) == 10  # one control per setting (the last: the retention period)
    assert inputs["in|weekday"]["type"] == "static_select"
    assert len(inputs["in|weekday"]["options"]) == 7
    assert "initial_option" not in inputs["in|privacy"]  # "x" is none of the choices
    assert inputs["in|window_hours"]["type"] == "number_input"
    assert inputs["in|window_hours"]["initial_value"] == "72"
    assert inputs["in|at"]["type"] == "plain_text_input"


def test_an_opener_fits_a_button_value_and_decodes_to_the_same_form() -> None:
    said = '"quoted" ' * 120  # ~1,080 characters, more once JSON-escaped
    box = TextInput(input_id="comment", label="Comment", value=said, max_length=1000)
    save = Button(action_id="x.save", value="12", label="Save")
    message = Message(ref="x:12", text="form", blocks=(box, Buttons(buttons=(save,))))
    payload = validate_message(message)
    opener = next(
        e
        for b in payload["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"].startswith(forms.OPEN)
    )
    form = forms.Form.decode(opener["value"])
    assert (form.action_id, form.value) == ("x.save", "12")
    assert form.inputs[0].input_id == "comment" and form.inputs[0].max_length == 1000
    assert not any(b["type"] == "input" for b in payload["blocks"])
    View(**forms.modal(form, {"a": form.action_id, "v": form.value})).to_dict()


def test_a_form_too_big_for_a_button_is_shown_inline() -> None:
    inputs = tuple(TextInput(input_id=f"i{n}", label="L" * 300, value="v" * 300) for n in range(6))
    message = Message(
        ref="f",
        text="form",
        blocks=(*inputs, Buttons(buttons=(Button(action_id="x.save", label="Save"),))),
    )
    blocks = validate_message(message)["blocks"]
    assert [b["type"] for b in blocks].count("input") == 6
    assert forms.inputs_of(
        {"values": {"in": {"i1": {"type": "plain_text_input", "value": "a"}}}}
    ) == {"i1": "a"}


def test_clip_never_cuts_an_entity_in_half() -> None:
    assert clip(escape("ab<"), 4) == "ab…"
    assert clip(escape("a&b"), 5) == "a…"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=4000), min_size=1, max_size=60))
def test_any_text_renders_to_valid_blocks(texts: list[str]) -> None:
    blocks = (*tuple(Text(text=t or " ") for t in texts), Context(lines=tuple(texts[:12])))
    payload = validate_message(Message(ref="any", text=texts[0] or " ", blocks=blocks))
    for block in payload["blocks"]:
        for part in [block.get("text"), *list(block.get("elements", []))]:
            if part and part.get("type") == "mrkdwn":
                assert "<" not in part["text"] and ">" not in part["text"]


def test_commitment_check_ins_and_forms_render_valid_blocks() -> None:
    from datetime import date

    from handlers.commitments.view import checkin_message, form_message
    from storage.commitments.models import Commitment, CommitmentCheckIn

    commitment = Commitment(
        id=4,
        person_id=1,
        team_id=1,
        behaviour="Ask for dissent <before> deciding & listen",
        ends_on=date(2027, 1, 31),
    )
    checkin = CommitmentCheckIn(id=9, commitment_id=4, occurrence="2026-11-27", outcome="kept")
    for message in (checkin_message(commitment, checkin, last=True), form_message()):
        payload = validate_message(message)
        assert forms.OPEN in json.dumps(payload)  # the reflection / the form: a modal
        opener = next(
            e
            for b in payload["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"].startswith(forms.OPEN)
        )
        View(**forms.modal(forms.Form.decode(opener["value"]), {"a": "x"})).to_dict()
    checkin_blocks = json.dumps(validate_message(checkin_message(commitment, checkin)))
    assert "&lt;before&gt; deciding &amp; listen" in checkin_blocks


HOSTILE = "Tom & Jerry <b>bold</b> <@U123> <!channel> <!here> <https://evil.test|click me>"
LONG = HOSTILE + " " + "x" * 4000  # longer than any Block Kit text


def mrkdwn_texts(blocks: list[dict[str, Any]], kind: str = "mrkdwn") -> list[str]:
    parts: list[dict[str, Any]] = []
    for block in blocks:
        parts += [block.get("text") or {}, *block.get("fields", []), *block.get("elements", [])]
    return [p["text"] for p in parts if p.get("type") == kind]


def validate_hostile(payload: dict[str, Any]) -> None:
    """Said text is escaped (no mention, broadcast or link survives) and every text fits
    its own limit: section 3000, field 2000, header 150, fallback 3000."""
    blocks = payload["blocks"]
    for block in blocks:
        for field in block.get("fields", []):
            assert len(field["text"]) <= 2000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        for element in block.get("elements", []):
            assert len(element.get("text", "")) <= 3000
    texts = mrkdwn_texts(blocks)
    assert any("&lt;!channel&gt;" in t for t in texts)  # the hostile text is shown...
    for said in [*texts, payload["text"]]:
        assert "<" not in said and ">" not in said, said  # ...escaped
        assert len(said) <= 3000
    # The 4,000-character one, shortened (what people or a model wrote goes as plain
    # text, which Slack does not parse).
    assert any(t.endswith("…") for t in texts + mrkdwn_texts(blocks, "plain_text"))


async def hostile_org(tmp_path: Path, clock: FakeClock) -> tuple[Pulsecoach, dict[str, int]]:
    """Three closed rounds, the latest with hostile comments, in a team whose name is
    hostile too (an admin typed it)."""
    app, ids = await org_with_history(tmp_path, clock)
    comments = [HOSTILE, LONG, f"{HOSTILE} again", "fine & <fine>", "<!everyone> hi"]
    closed = datetime(2026, 11, 20, 12, tzinfo=UTC)
    await add_round(app, ids, 3, closed, dict.fromkeys(SIX, 5), comments, invited=SIX)
    async with app.db.session() as session:
        team = (await session.exec(select(Team))).one()
        team.name = "Leaders <!channel> & co"
        session.add(team)
    return app, ids


async def test_results_message_validates_and_escapes_hostile_comments(
    tmp_path: Path, clock: FakeClock
) -> None:
    app, _ = await hostile_org(tmp_path, clock)
    try:
        results = await team_results(app.services, "leadership")
        payload = validate_message(results_message(results))
        validate_hostile(payload)
        rendered = json.dumps(payload, ensure_ascii=False)
        assert "Tom &amp; Jerry &lt;b&gt;bold&lt;/b&gt; &lt;@U123&gt;" in rendered
        assert not any(b["type"] == "image" for b in payload["blocks"])  # the SVG: left out
        home = render_home([results_message(results)])
        View(**home).to_dict()
        validate_blocks(home["blocks"], 100)
    finally:
        await app.db.dispose()


async def test_coach_digest_validates_and_escapes_hostile_text(
    tmp_path: Path, clock: FakeClock
) -> None:
    """The digest as sent, and with an LLM summary that says hostile things (model
    output is as untrusted as what people typed)."""
    app, _ = await hostile_org(tmp_path, clock)
    try:
        row = await send(app, DigestOptions())
        assert row.message is not None and row.id is not None
        validate_message(Message.model_validate(row.message))
        content = DigestContent.model_validate(row.content)
        summary = content.summary.model_copy(
            update={"themes": [HOSTILE, LONG], "risks": [HOSTILE], "focus_questions": [LONG]}
        )
        content = content.model_copy(update={"summary": summary, "flags": [HOSTILE]})
        chart = "https://pulsecoach.example.com/charts/digests/1-token.png"
        message = digest_message(content, row.id, chart)
        payload = validate_message(message)
        validate_hostile(payload)
        [image] = [b for b in payload["blocks"] if b["type"] == "image"]
        assert image["image_url"] == chart
        header = next(b for b in payload["blocks"] if b["type"] == "header")
        assert "Leaders <!channel> & co" in header["text"]["text"]  # plain text: not parsed
        home = render_home([message])
        View(**home).to_dict()
        validate_blocks(home["blocks"], 100)
    finally:
        await app.db.dispose()


def test_an_opener_carries_what_was_written_and_only_empty_forms_are_remembered() -> None:
    def form(value: str) -> forms.Form:
        box = TextInput(input_id="comment", label="Comment", value=value)
        return forms.Form("pulse.comment", "7", "Send comment", (box,))

    forms._compact.cache_clear()
    empty, written = form(""), form("the offsite felt rushed")
    assert forms.Form.decode(empty.compact() or "").inputs[0].value == ""
    assert forms.Form.decode(written.compact() or "").inputs[0].value == ("the offsite felt rushed")
    assert empty.compact() == empty.compact()
    # Someone's comment is encoded each time, never kept in the process's cache.
    assert forms._compact.cache_info().currsize == 1
