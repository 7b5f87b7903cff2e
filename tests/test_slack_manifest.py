"""The Slack app manifests ask for exactly what the code uses."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.slack.app import COMMAND, EVENTS, SCOPES

MANIFESTS = Path(__file__).parent.parent / "manifests" / "slack"


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
