"""The pulse in Slack: a short prompt kept in the conversation, the answers in a
private modal (which Slack keeps in no conversation history)."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from slack_sdk.models.views import View

from bot.slack.render import neutral_action, private_form_modal
from handlers.pulse.view import PulseLayout
from tests.slack.test_render import INSTRUMENTS, a_round, validate_message


def test_a_pulse_is_a_short_prompt_and_its_private_form_a_valid_modal() -> None:
    round_ = a_round(7)
    first = round_.item_keys[0]
    instrument = INSTRUMENTS["team_safety"]
    layout = PulseLayout(round_, "L", instrument, ZoneInfo("UTC"), "en")
    payload = validate_message(layout.message({first: 3}))
    assert len(payload["blocks"]) <= 5  # a short prompt, not 7 rows of 7 buttons
    elements = [e for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [neutral_action(e["action_id"]) for e in elements] == [
        "pulse.open",
        "pulse.skip",
        "pulse.snooze",
    ]
    assert elements[0]["value"] == "12" and "1 of 7 answered" in json.dumps(payload)
    assert "✓" not in json.dumps(payload)
    form = layout.form({first: 3}, "Mine")
    view = private_form_modal(form, {"a": form.action_id, "v": form.value})
    View(**view).to_dict()  # slack_sdk validates it
    menus = [b for b in view["blocks"] if b["type"] == "input" and "options" in b["element"]]
    assert [m["element"]["action_id"] for m in menus] == round_.item_keys
    assert menus[0]["element"]["initial_option"]["value"] == "3"
    assert json.loads(view["private_metadata"]) == {"a": "pulse.submit", "v": "12"}
