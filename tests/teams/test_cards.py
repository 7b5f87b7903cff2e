"""The neutral message model as Adaptive Cards, within what Teams renders and accepts."""

from __future__ import annotations

import json

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
from bot.teams import cards, dialogs, forms

SCALE = tuple(Choice(value=str(n), label=str(n)) for n in range(1, 8))


def every_block() -> Message:
    return Message(
        ref="pulse:7",
        text="Pulse",
        blocks=(
            Text(text="Heading", style="heading"),
            Text(text="Body [click](https://evil.example) <at>everyone</at>"),
            Text(text="Muted", style="muted"),
            Text(text="Notice", style="notice"),
            Question(
                action_id="pulse.answer",
                prompt="How safe?",
                choices=SCALE,
                selected="5",
                value_prefix="7:safe:",
                low_label="Disagree",
                high_label="Agree",
            ),
            Fields(fields=(Field_(label="Score", value="71/100"),)),
            Context(lines=("a", "b")),
            Divider(),
            Image(url="https://charts.example/1.png", alt="trend"),
            Image(url="data:image/svg+xml;base64,AAAA", alt="inline"),
            TextInput(input_id="comment", label="Comment", value="what I wrote before"),
            Buttons(
                buttons=(
                    Button(action_id="pulse.comment", value="7", label="Send comment"),
                    Button(action_id="pulse.skip", value="7", label="Skip", style="danger"),
                )
            ),
        ),
    )


def test_every_block_renders_within_teams_rules() -> None:
    card = cards.render(every_block())
    assert cards.problems(card) == []
    assert card["version"] == "1.5"
    types = [b["type"] for b in card["body"]]
    assert "Input.Text" not in types  # typed text lives in dialogs only
    assert [b["url"] for b in card["body"] if b["type"] == "Image"] == [
        "https://charts.example/1.png"
    ]
    rows = [b for b in card["body"] if b["type"] == "ActionSet"]
    assert [len(r["actions"]) for r in rows[:2]] == [4, 3]  # a 7-point scale, balanced
    chosen = [a for r in rows for a in r["actions"] if a["title"].startswith("✓")]
    assert [a["data"] for a in chosen] == [{"pc": "pulse.answer", "v": "7:safe:5", "r": "pulse:7"}]
    shown = json.dumps(card)
    assert "what I wrote before" not in shown
    assert "](" not in shown and "<at>" not in shown


def test_a_form_opens_a_dialog_whose_submission_is_the_original_action() -> None:
    card = cards.render(every_block())
    opener = next(
        a
        for r in card["body"]
        if r["type"] == "ActionSet"
        for a in r["actions"]
        if a["data"]["pc"] == forms.OPEN
    )
    assert opener["data"]["msteams"] == {"type": "task/fetch"}
    form = forms.Form.decode(opener["data"][forms.FORM])
    assert form is not None and form.action_id == "pulse.comment"
    dialog = dialogs.form_card(form, "pulse:7", {"comment": "draft"}, error="Too short")
    assert cards.problems(dialog) == []
    [field] = [b for b in dialog["body"] if b["type"] == "Input.Text"]
    assert field["id"] == "in.comment" and field["value"] == "draft"
    [submit] = dialog["actions"]
    assert submit["data"]["pc"] == "pulse.comment" and submit["data"]["v"] == "7"
    back = {**submit["data"], "in.comment": "typed"}
    assert forms.inputs_of(back) == {"comment": "typed"}


def test_an_oversized_message_is_shortened_under_the_limit() -> None:
    huge = Message(
        ref="digest:1",
        text="Digest",
        blocks=tuple(Text(text=f"Line {n} " + "x" * 400) for n in range(400)),
    )
    card = cards.render(huge)
    assert cards.problems(card) == []
    assert cards.size(card) <= cards.CARD_BUDGET
    assert "shortened" in card["body"][-1]["text"]


def test_problems_names_what_teams_would_refuse() -> None:
    bad = {
        "type": "AdaptiveCard",
        "version": "1.6",
        "body": [
            {"type": "Table"},
            {"type": "ActionSet", "actions": [{"type": "Action.Execute"}] * 7},
            {"type": "TextBlock", "text": "x" * 30_000},
        ],
    }
    found = cards.problems(bad)
    assert any("version" in p for p in found)
    assert any("Table" in p for p in found)
    assert any("7 actions" in p for p in found)
    assert any("Action.Execute" in p for p in found)
    assert any("bytes" in p for p in found)
