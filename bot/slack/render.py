"""The neutral message model rendered as Block Kit, within Block Kit's limits.

Every neutral text is escaped (`&`, `<`, `>`), so nothing a person typed can mention
@channel or forge a link; a literal text (`Text.literal`, `Context.literal`: what
people or a model wrote) goes as plain text, so Slack reads no formatting in it at all.
Texts are shortened to their field's limit and a surface that would pass its block
limit ends with a note instead. A message's free-text inputs become a button that
opens a modal (see `bot/slack/forms.py`).
"""

from __future__ import annotations

import ipaddress
import json
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bot.core.messages import (
    Block,
    Button,
    Buttons,
    Context,
    Divider,
    Fields,
    Image,
    Message,
    Question,
    Text,
    TextInput,
)
from bot.core.messages import Form as PrivateForm
from bot.slack import forms
from bot.slack.blockkit import (
    ACTIONS_ELEMENTS,
    ALT_TEXT,
    BUTTON_TEXT,
    BUTTON_VALUE,
    CONTEXT_ELEMENTS,
    FALLBACK_TEXT,
    FIELD_TEXT,
    FIELDS_PER_SECTION,
    HEADER_TEXT,
    IMAGE_URL,
    INPUT_LABEL,
    MESSAGE_BLOCKS,
    MODAL_BUTTON,
    MODAL_TITLE,
    PLACEHOLDER,
    PRIVATE_METADATA,
    SURFACE_BLOCKS,
    clip,
    escape,
    literal,
    mrkdwn,
    plain,
)
from prompts.texts import text as say

SUFFIX = "#"  # action ids are made unique per message: "pulse.answer#3"


def neutral_action(action_id: str) -> str:
    """The neutral action id behind a rendered one."""
    base, sep, tail = action_id.rpartition(SUFFIX)
    return base if sep and tail.isdigit() else action_id


def ref_of_block(block_id: str | None) -> str | None:
    """The neutral message ref a rendered block came from."""
    if not block_id or "|" not in block_id:
        return None
    return block_id.rsplit("|", 1)[0] or None


@dataclass
class _Ids:
    """Unique block and action ids across one surface."""

    n: int = 0
    anchors: dict[str, str | None] = field(default_factory=dict)

    def block(self, ref: str) -> str:
        self.n += 1  # block ids hold at most 255 characters; refs at most 200
        return f"{ref}|{self.n}" if len(ref) <= 200 else f"|{self.n}"

    def action(self, action_id: str) -> str:
        self.n += 1
        return f"{action_id}{SUFFIX}{self.n}"


def _button(button: Button, ids: _Ids) -> dict[str, Any] | None:
    if len(button.value) > BUTTON_VALUE:
        return None  # a cut value would be a different click: leave the button out
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(button.label, BUTTON_TEXT),
        "action_id": ids.action(button.action_id),
    }
    if button.value:  # Slack refuses an empty value; an absent one comes back as ""
        element["value"] = button.value
    if button.style != "default":
        element["style"] = button.style
    return element


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _question(question: Question, ref: str, ids: _Ids) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "block_id": ids.block(ref), "text": mrkdwn(f"*{question.prompt}*")}
    ]
    # Built as dicts straight away (the same shape `_button` gives): a pulse message
    # holds ~50 of these and is rendered again after every click.
    buttons = []
    for choice in question.choices:
        value = question.value_prefix + choice.value
        if len(value) > BUTTON_VALUE:
            continue  # a cut value would be a different click: leave the button out
        chosen = choice.value == question.selected
        element: dict[str, Any] = {
            "type": "button",
            "text": plain(f"✓ {choice.label}" if chosen else choice.label, BUTTON_TEXT),
            "action_id": ids.action(question.action_id),
            "value": value,
        }
        if chosen:
            element["style"] = "primary"
        buttons.append(element)
    for part in _chunks(buttons, ACTIONS_ELEMENTS):
        blocks.append({"type": "actions", "block_id": ids.block(ref), "elements": list(part)})
    if question.low_label and question.high_label and question.choices:
        anchors = (
            f"{question.choices[0].label} = {question.low_label} · "
            f"{question.choices[-1].label} = {question.high_label}"
        )
        if ids.anchors.get(ref) != anchors:  # said once while it stays the same
            ids.anchors[ref] = anchors
            blocks.append(
                {"type": "context", "block_id": ids.block(ref), "elements": [mrkdwn(anchors)]}
            )
    return blocks


# Rendered questions, by question object: a pulse message is rendered again after every
# click, from question objects its layout keeps (handlers/pulse_view.py). What a question
# renders to also depends on where it sits (the ids it gets) and on whether its scale's
# anchors were already said; both are part of the key. The dicts are shared between
# renders: nothing may change a rendered block after the fact.
_RENDERED: weakref.WeakKeyDictionary[
    Question, dict[tuple[str, int, str | None], tuple[list[dict[str, Any]], int, str | None]]
] = weakref.WeakKeyDictionary()


def _question_once(question: Question, ref: str, ids: _Ids) -> list[dict[str, Any]]:
    key = (ref, ids.n, ids.anchors.get(ref))
    known = _RENDERED.setdefault(question, {})
    found = known.get(key)
    if found is None:
        blocks = _question(question, ref, ids)
        found = known[key] = (blocks, ids.n, ids.anchors.get(ref))
        return blocks
    blocks, ids.n, anchors = found
    if anchors is not None:
        ids.anchors[ref] = anchors
    return blocks


def _reachable(url: str) -> bool:
    """An image URL Slack's servers can fetch: https, on a public host."""
    if not url.startswith("https://") or len(url) > IMAGE_URL:
        return False
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith((".local", ".internal", ".localhost")):
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return bool(host)  # a name: assume public


def _block(block: Block, ref: str, ids: _Ids) -> list[dict[str, Any]]:
    if isinstance(block, Text):
        if block.style == "heading" and len(block.text) <= HEADER_TEXT:
            return [
                {
                    "type": "header",
                    "block_id": ids.block(ref),
                    "text": plain(block.text, HEADER_TEXT),
                }
            ]
        text_object = literal if block.literal else mrkdwn
        if block.style == "muted":
            return [
                {
                    "type": "context",
                    "block_id": ids.block(ref),
                    "elements": [text_object(block.text)],
                }
            ]
        if block.literal:
            return [{"type": "section", "block_id": ids.block(ref), "text": literal(block.text)}]
        body = f"*{block.text}*" if block.style == "heading" else block.text
        return [{"type": "section", "block_id": ids.block(ref), "text": mrkdwn(body)}]
    if isinstance(block, Question):
        return _question_once(block, ref, ids)
    if isinstance(block, Buttons):
        elements = [e for b in block.buttons if (e := _button(b, ids)) is not None]
        return [
            {"type": "actions", "block_id": ids.block(ref), "elements": list(part)}
            for part in _chunks(elements, ACTIONS_ELEMENTS)
        ]
    if isinstance(block, Fields):
        texts = [mrkdwn(f"*{f.label}*\n{f.value}", FIELD_TEXT) for f in block.fields]
        return [
            {"type": "section", "block_id": ids.block(ref), "fields": list(part)}
            for part in _chunks(texts, FIELDS_PER_SECTION)
        ]
    if isinstance(block, Context):
        text_object = literal if block.literal else mrkdwn
        lines = [text_object(line) for line in block.lines if line]
        return [
            {"type": "context", "block_id": ids.block(ref), "elements": list(part)}
            for part in _chunks(lines, CONTEXT_ELEMENTS)
        ]
    if isinstance(block, Divider):
        return [{"type": "divider", "block_id": ids.block(ref)}]
    if isinstance(block, Image):
        # Slack fetches images itself and refuses the whole message when it cannot: a
        # data: URL (our inline SVG chart) or a server Slack cannot reach is left out;
        # the text sparkline next to the chart carries the same trend.
        if not _reachable(block.url):
            return []
        return [
            {
                "type": "image",
                "block_id": ids.block(ref),
                "image_url": block.url,
                "alt_text": clip(block.alt, ALT_TEXT),
            }
        ]
    if isinstance(block, TextInput):
        return [forms.inline_input(block, ids.block(ref))]
    return []


def _blocks(message: Message, ids: _Ids) -> list[dict[str, Any]]:
    rendered: list[dict[str, Any]] = []
    for block in forms.with_openers(message):
        rendered += _block(block, message.ref, ids)
    return rendered


def _fit(blocks: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    if len(blocks) <= limit:
        return blocks
    return [
        *blocks[: limit - 1],
        {"type": "context", "elements": [mrkdwn(say("slack.render.shortened"))]},
    ]


@dataclass(frozen=True)
class Rendered:
    text: str
    blocks: list[dict[str, Any]]

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def fallback_text(message: Message) -> str:
    return clip(escape(message.text or " "), FALLBACK_TEXT)


def render_message(message: Message) -> Rendered:
    """One chat message: at most 50 blocks."""
    return Rendered(fallback_text(message), _fit(_blocks(message, _Ids()), MESSAGE_BLOCKS))


def render_surface(cards: Sequence[Message], banner: str | None = None) -> list[dict[str, Any]]:
    """Blocks of a Home tab or modal made of several messages: at most 100 blocks."""
    ids = _Ids()
    blocks: list[dict[str, Any]] = []
    if banner:
        blocks.append({"type": "section", "block_id": ids.block("banner"), "text": mrkdwn(banner)})
        blocks.append({"type": "divider", "block_id": ids.block("banner")})
    for index, card in enumerate(cards):
        if index:
            blocks.append({"type": "divider", "block_id": ids.block(card.ref)})
        blocks += _blocks(card, ids)
    return _fit(blocks, SURFACE_BLOCKS)


def render_home(cards: Sequence[Message], banner: str | None = None) -> dict[str, Any]:
    blocks = render_surface(cards, banner)
    if not blocks:
        blocks = [{"type": "section", "text": mrkdwn(say("home.view.empty"))}]
    return {"type": "home", "blocks": blocks}


def form_modal(message: Message, metadata: dict[str, Any]) -> dict[str, Any] | None:
    """A reply that asks for text, as a modal: its other blocks above the inputs."""
    form = forms.form_of(message)
    if form is None:
        return None
    ids = _Ids()
    intro: list[dict[str, Any]] = []
    for block in message.blocks:
        if isinstance(block, TextInput):
            continue
        if isinstance(block, Buttons) and any(
            (b.action_id, b.value) == (form.action_id, form.value) for b in block.buttons
        ):
            continue  # the modal's own submit button stands for it
        intro += _block(block, message.ref, ids)
    heading = next(
        (b.text for b in message.blocks if isinstance(b, Text) and b.style == "heading"), None
    )
    return forms.modal(form, metadata, title=heading, intro=intro[: SURFACE_BLOCKS - 10])


def private_form_modal(form: PrivateForm, metadata: dict[str, Any]) -> dict[str, Any]:
    """A neutral private form as a modal: a modal is no message, so Slack keeps no
    version of it in the conversation, its history or its exports. Each question is
    one compact menu (its ends labelled); the answers come back in its submission."""
    ids = _Ids()
    blocks: list[dict[str, Any]] = []
    for block in form.blocks:
        if isinstance(block, Question) and block.input_id:
            blocks.append(_menu(block))
        elif isinstance(block, TextInput):
            blocks.append(forms.inline_input(block, f"in|{block.input_id}"))
        else:
            blocks += _block(block, form.ref, ids)
    packed = json.dumps(metadata, separators=(",", ":"))
    if len(packed) > PRIVATE_METADATA:
        packed = json.dumps({k: v for k, v in metadata.items() if k not in ("r", "x")})
    return {
        "type": "modal",
        "callback_id": forms.CALLBACK,
        "title": plain(form.title, MODAL_TITLE),
        "submit": plain(form.submit_label, MODAL_BUTTON),
        "close": plain(say("slack.modal.cancel"), MODAL_BUTTON),
        "private_metadata": packed,
        "blocks": _fit(blocks, SURFACE_BLOCKS),
    }


def _menu(question: Question) -> dict[str, Any]:
    last = len(question.choices) - 1
    options = []
    for n, choice in enumerate(question.choices):
        anchor = question.low_label if n == 0 else question.high_label if n == last else None
        label = f"{choice.label} — {anchor}" if anchor else choice.label
        options.append({"text": plain(label, BUTTON_TEXT), "value": choice.value})
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": question.input_id,
        "placeholder": plain(say("slack.form.choose"), PLACEHOLDER),
        "options": options[:100],
    }
    chosen = next((o for o in options if o["value"] == question.selected), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return {
        "type": "input",
        "block_id": f"in|{question.input_id}",
        "optional": True,  # an item left unanswered stays unanswered
        "label": plain(question.prompt, INPUT_LABEL),
        "element": element,
    }
