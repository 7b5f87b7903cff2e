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
    Form,
    Image,
    Message,
    Question,
    Text,
    TextInput,
)
from bot.teams import cards, dialogs, forms

SCALE = tuple(Choice(value=str(n), label=str(n)) for n in range(1, 8))


def question(**extra: str) -> Question:
    return Question(
        action_id="pulse.answer",
        prompt="How safe?",
        choices=SCALE,
        selected="5",
        low_label="Disagree",
        high_label="Agree",
        **extra,
    )


def every_block() -> Message:
    return Message(
        ref="pulse:7",
        text="Pulse",
        blocks=(
            Text(text="Heading", style="heading"),
            Text(text="Body [click](https://evil.example) <at>everyone</at>"),
            Text(text="Muted", style="muted"),
            Text(text="Notice", style="notice"),
            question(value_prefix="7:safe:"),
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
    assert cards.problems(dialog, dialog=True) == []
    assert cards.problems(dialog) == ["body[1]: Input.Text in a chat card"]
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


def private_form() -> Form:
    return Form(
        ref="pulse:7",
        title="Your pulse answers",
        action_id="pulse.submit",
        value="7",
        submit_label="Save answers",
        blocks=(
            Text(text="Pulse", style="heading"),
            question(input_id="safe"),
            TextInput(input_id="comment", label="Comment", value="mine alone", max_length=50),
            Context(lines=("Anonymous",)),
        ),
    )


def test_a_private_form_is_a_valid_dialog_whose_layout_holds_no_answer() -> None:
    dialog = dialogs.private_card(private_form(), card_id="card-9")
    assert cards.problems(dialog, dialog=True) == []
    inputs = {b["id"]: b for b in dialog["body"] if b["type"].startswith("Input.")}
    assert inputs["in.safe"]["type"] == "Input.ChoiceSet" and inputs["in.safe"]["value"] == "5"
    assert inputs["in.safe"]["choices"][0]["title"] == "1 — Disagree"
    assert inputs["in.comment"]["value"] == "mine alone"  # in the dialog only
    [save] = dialog["actions"]
    assert save["data"]["pc"] == "pulse.submit" and save["data"]["c"] == "card-9"
    carried = json.dumps(save["data"])
    assert "mine alone" not in carried and '"selected": null' in carried
    layout = dialogs.layout_of(save["data"]["pf"])
    assert layout is not None and layout.title == "Your pulse answers"
    again = dialogs.private_card(layout, None, {"safe": "banana", "comment": "x" * 80}, "Nope")
    assert cards.problems(again, dialog=True) == []  # an unknown choice is left unchosen
    shown = {b["id"]: b for b in again["body"] if b["type"].startswith("Input.")}
    assert "value" not in shown["in.safe"] and len(shown["in.comment"]["value"]) == 50
    assert again["body"][0]["text"] == "Nope"
    assert dialogs.layout_of("junk") is None and dialogs.layout_of({"ref": 1}) is None


def test_problems_names_what_a_dialog_would_lose() -> None:
    bad = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [
            {"type": "Input.ChoiceSet", "id": "in.a", "choices": [], "value": "3"},
            {"type": "Input.ChoiceSet", "id": "in.b", "choices": [{"title": 1, "value": "1"}]},
            {"type": "Input.Text", "id": "in.a", "maxLength": 2, "value": "long"},
            {"type": "Input.Text", "maxLength": 0},
        ],
        "actions": [{"type": "Action.Submit", "title": "Save", "data": {"in.b": "x"}}],
    }
    found = cards.problems(bad, dialog=True)
    assert any("needs 1-100 choices" in p for p in found)
    assert any("text title and value" in p for p in found)
    assert any("longer than its maxLength" in p for p in found)
    assert any("without an id" in p for p in found)
    assert any("positive maxLength" in p for p in found)
    assert any("repeated: ['in.a']" in p for p in found)
    assert any("also keys of an action's data" in p for p in found)
    assert not any("chat card" in p for p in found)


def test_a_private_forms_button_asks_for_a_dialog() -> None:
    message = Message(
        ref="pulse:7",
        text="Pulse",
        blocks=(
            Buttons(
                buttons=(
                    Button(action_id="pulse.open", value="7", label="Answer", form_action="x"),
                    Button(action_id="pulse.skip", value="7", label="Skip"),
                )
            ),
        ),
    )
    answer, skip = [a for b in cards.render(message)["body"] for a in b["actions"]]
    assert answer["data"] == {
        "pc": "pulse.open",
        "v": "7",
        "r": "pulse:7",
        "msteams": {"type": "task/fetch"},
    }
    assert "msteams" not in skip["data"]
