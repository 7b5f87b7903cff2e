"""The Slack app manifests ask for exactly what the code uses: the lists in
bot/slack/app.py, and the scopes of every Web API method a representative session
records on the stand-in."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot.slack.app import COMMAND, EVENTS, SCOPES
from handlers.config.apply import apply_text
from handlers.digests.send import DigestOptions, send_digest
from handlers.pulse.rounds import open_round
from storage.core.models import Person
from tests.support.clock import FakeClock
from tests.support.digests import add_round
from tests.support.slack.helpers import (
    EXECUTIVES,
    OTHERS,
    SlackOrg,
    block_action,
    event_body,
    interactive_body,
    slack_org,
    slash_body,
    view_submission,
)
from tests.support.slack.standin import TEAM

MANIFESTS = Path(__file__).parents[2] / "manifests" / "slack"


@pytest.mark.parametrize("name", ["manifest.yaml", "manifest.socket.yaml"])
def test_manifest_matches_the_code(name: str) -> None:
    manifest = yaml.safe_load((MANIFESTS / name).read_text())
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(SCOPES)
    assert sorted(manifest["settings"]["event_subscriptions"]["bot_events"]) == sorted(EVENTS)
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    socket = manifest["settings"]["socket_mode_enabled"]
    assert socket is (name == "manifest.socket.yaml")
    if not socket:  # HTTP: one URL for events, interactivity and the command
        urls = {
            manifest["settings"]["event_subscriptions"]["request_url"],
            manifest["settings"]["interactivity"]["request_url"],
            command["url"],
        }
        assert len(urls) == 1 and urls.pop().endswith("/slack/events")
        assert manifest["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")


def test_the_listened_events_are_the_subscribed_ones() -> None:
    from bot.slack import app

    source = Path(app.__file__).read_text()
    for event in EVENTS:
        assert f'bolt.event("{event.split(".")[0]}")' in source


# Every Web API method pulsecoach calls, and the bot scope it needs (None: no scope).
# A method the flow below records that is missing here fails the test: add it with its
# scope from its page on api.slack.com/methods, and the scope to both manifests.
METHOD_SCOPES: dict[str, str | None] = {
    "auth.test": None,
    "oauth.v2.access": None,  # the OAuth install itself
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "conversations.open": "im:write",  # a DM, to look for a post whose outcome was lost
    "conversations.history": "im:history",  # in that DM
    "views.publish": None,
    "views.open": None,
    "views.push": None,
    "views.update": None,
    "users.info": "users:read",
    "users.list": "users:read",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "upload": None,  # the upload URL files.getUploadURLExternal hands out, not a method
}
# Needed by no Web API method but by the manifest itself: the /pulse command.
# users:read.email: users.list gives each member's email (how people are matched) only
# with it.
OTHER_SCOPES = {"commands", "users:read.email"}
# What a representative session must have exercised for the check to mean something.
EXERCISED = {
    "auth.test",
    "users.list",
    "chat.postMessage",
    "chat.update",
    "conversations.open",
    "conversations.history",
    "views.publish",
    "views.open",
    "files.getUploadURLExternal",
    "upload",
    "files.completeUploadExternal",
}


async def representative_session(org: SlackOrg) -> None:
    """Start-up (auth.test, roster by user id and by email), a fan-out whose first post
    is answered 500 after posting, an App Home answer in the private modal (open,
    publish, update of the DM copy), and a coach digest with its chart uploaded into its thread."""
    channel = org.channel
    people = {**EXECUTIVES, **{h: u for h, (u, _) in OTHERS.items()}, "erin": "UERIN"}
    for handle, user in people.items():
        org.standin.add_user(user, f"{handle}@acme.test")
    async with org.app.db.session() as session:
        ana = await session.get(Person, org.ids["ana"])
        assert ana is not None
        session.add(
            Person(
                workspace_id=ana.workspace_id, handle="erin", name="Erin", email="erin@acme.test"
            )
        )
    for _ in range(100):  # the start-up task asks auth.test which workspace the token is
        if org.standin.of("auth.test"):
            break
        await asyncio.sleep(0.05)
    await channel.roster.sync(TEAM)

    org.standin.fail("chat.postMessage", status=500, posted=True)
    await open_round(org.app.services, "leadership")
    for _ in range(6):
        await org.app.sender.drain()
        org.clock.advance(timedelta(seconds=60))
    assert all(len(org.standin.dm(user)) == 1 for user in EXECUTIVES.values())

    event = {"type": "app_home_opened", "user": "UDEV", "channel": "DUDEV", "tab": "home"}
    await org.post(event_body(event, "EvScopes"))
    await org.settle()
    home = org.standin.views["UDEV"]
    block = next(b for b in home["blocks"] if b["type"] == "actions")
    button = next(e for e in block["elements"] if e["action_id"].startswith("pulse.open"))
    await org.act(
        block_action(
            "UDEV", button["action_id"], button["value"], home=True, block_id=block["block_id"]
        )
    )
    [modal] = org.standin.opened  # the private form
    menus = [b for b in modal["blocks"] if b["type"] == "input" and "options" in b["element"]]
    answers = {b["element"]["action_id"]: "5" for b in menus} | {"comment": "Steady."}
    await org.post(interactive_body(view_submission("UDEV", modal, answers)))
    await org.settle()
    await channel.after.drain(10.0)

    everyone = tuple(EXECUTIVES)
    for number, (closed, score) in enumerate(
        [(datetime(2026, 10, 26, 12, tzinfo=UTC), 6), (datetime(2026, 11, 16, 12, tzinfo=UTC), 4)],
        1,
    ):
        await add_round(
            org.app, org.ids, 100 + number, closed, dict.fromkeys(everyone, score), invited=everyone
        )
    await send_digest(
        org.app.services,
        "leadership",
        reason="on_demand",
        occasion="demand:scopes",
        options=DigestOptions(),
    )
    await org.app.sender.drain()


async def test_every_method_called_needs_only_granted_scopes(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_env: None
) -> None:
    async with slack_org(tmp_path, clock, monkeypatch, roster=True) as org:
        await representative_session(org)
        called = {c.method for c in org.standin.calls}
    assert EXERCISED <= called, f"the session no longer calls {EXERCISED - called}"
    unknown = called - METHOD_SCOPES.keys()
    assert not unknown, f"add {unknown} to METHOD_SCOPES (and their scopes to the manifests)"
    needed = {METHOD_SCOPES[m] for m in called} - {None}
    for name in ("manifest.yaml", "manifest.socket.yaml"):
        granted = set(
            yaml.safe_load((MANIFESTS / name).read_text())["oauth_config"]["scopes"]["bot"]
        )
        assert needed <= granted, f"{name} lacks {needed - granted}"
        known = {s for s in METHOD_SCOPES.values() if s} | OTHER_SCOPES
        assert granted <= known, f"{name} asks for {granted - known}, which nothing uses"


@pytest.mark.parametrize("name", ["manifest.yaml", "manifest.socket.yaml"])
def test_the_usage_hint_lists_the_everyday_verbs(name: str) -> None:
    manifest = yaml.safe_load((MANIFESTS / name).read_text())
    [command] = manifest["features"]["slash_commands"]
    words = set(command["usage_hint"].replace("|", " ").split())
    for verb in ("help", "results", "commitments", "digest", "snooze", "admin", "home"):
        assert verb in words, f"{name}: /pulse usage_hint lacks {verb}"


def docs_organisation() -> str:
    """The organisation file docs/slack.md gives for the five steps."""
    docs = (Path(__file__).parents[2] / "docs" / "slack.md").read_text()
    [block] = re.findall(r"```yaml\n(.*?)```", docs, flags=re.S)
    return block


async def test_the_docs_organisation_gets_its_admin_to_the_first_pulse(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_env: None
) -> None:
    """Steps 3 to 5 of docs/slack.md: apply its file, match people, `/pulse pulse send
    leadership` as the admin, and every executive has the pulse in a DM."""
    text = docs_organisation().replace("T0123ABCD", TEAM)
    async with slack_org(tmp_path, clock, monkeypatch, seed_org=False) as org:
        users = {"maya": "UMAYA", "oliver": "UOLIVER", "priya": "UPRIYA", "elena": "UELENA"}
        domains = {"elena": "coaching.example"}
        for handle, user in users.items():
            org.standin.add_user(user, f"{handle}@{domains.get(handle, 'acme.com')}")
        org.standin.add_user("U0456EFGH")
        dry = await apply_text(org.app.db, text, filename="organisation.yaml", dry_run=True)
        assert "create program safety for leadership" in dry.changes
        await apply_text(org.app.db, text, filename="organisation.yaml")
        await org.channel.roster.sync(TEAM)
        url = org.standin.response_url("sam")
        await org.post(slash_body("U0456EFGH", "pulse send leadership", url))
        await org.settle()
        assert "Pulse sent to 3 people in leadership: 3 now" in json.dumps(org.standin.responses)
        await org.app.sender.drain()
        for user in ("UMAYA", "UOLIVER", "UPRIYA"):
            assert len(org.standin.dm(user)) == 1
        assert org.standin.dm("UELENA") == [] and org.standin.dm("U0456EFGH") == []
