"""Settings: every knob from the environment, and every mistake as one line naming the
variable to fix, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main as cli
from bot.settings import SLACK_POSTS_PER_MINUTE, Settings, SettingsError, get_settings
from bot.slack.link import SlackConfig

NEEDS = (
    "configuration error: SLACK_SIGNING_SECRET is set, so Slack also needs SLACK_BOT_TOKEN "
    "(one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (installs over OAuth)"
)


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_env: None):
    """Set variables as an operator would; no .env file from the working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PULSECOACH_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _fails(capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SettingsError) as stopped:
        cli.main(["db", "current"])
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1, captured.err
    return captured.err.strip()


def test_slack_posts_per_minute_comes_from_settings(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("SLACK_SIGNING_SECRET", "s")
    environment.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    assert Settings().slack_posts_per_minute == SLACK_POSTS_PER_MINUTE == 600
    assert SlackConfig.from_settings(Settings()).posts_per_minute == 600
    environment.setenv("PULSECOACH_SLACK_POSTS_PER_MINUTE", "120.5")
    assert SlackConfig.from_settings(Settings()).posts_per_minute == 120.5


@pytest.mark.parametrize("value", ["0", "-5", "fast"])
def test_a_bad_posts_per_minute_is_one_line(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    environment.setenv("PULSECOACH_SLACK_POSTS_PER_MINUTE", value)
    assert _fails(capsys).startswith("configuration error: PULSECOACH_SLACK_POSTS_PER_MINUTE: ")


def test_slack_without_a_token_or_oauth_is_one_line(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environment.setenv("SLACK_SIGNING_SECRET", "s")
    assert _fails(capsys) == NEEDS
    environment.setenv("SLACK_CLIENT_ID", "1.2")  # half of OAuth is not enough
    get_settings.cache_clear()
    assert _fails(capsys) == NEEDS


def test_socket_mode_without_a_token_names_the_app_token(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environment.setenv("SLACK_APP_TOKEN", "xapp-1")
    environment.setenv("SLACK_BOT_TOKEN", "")
    assert _fails(capsys) == NEEDS.replace("SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")


def test_oauth_without_a_secret_key_is_one_line(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environment.setenv("SLACK_SIGNING_SECRET", "s")
    environment.setenv("SLACK_CLIENT_ID", "1.2")
    environment.setenv("SLACK_CLIENT_SECRET", "c")
    assert _fails(capsys) == (
        "configuration error: SLACK_CLIENT_ID and SLACK_CLIENT_SECRET also need "
        "PULSECOACH_SECRET_KEY: Slack tokens are stored encrypted with a key derived from it"
    )


def test_slack_settings_that_can_send_are_accepted(environment: pytest.MonkeyPatch) -> None:
    assert not Settings().slack_enabled  # no Slack at all: nothing to check
    environment.setenv("SLACK_CLIENT_ID", "1.2")  # OAuth half-set, but Slack is off
    assert not Settings().slack_enabled
    environment.setenv("SLACK_SIGNING_SECRET", "s")
    environment.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    assert Settings().slack_enabled
    environment.delenv("SLACK_BOT_TOKEN")
    environment.setenv("SLACK_CLIENT_SECRET", "c")
    environment.setenv("PULSECOACH_SECRET_KEY", "k")
    assert SlackConfig.from_settings(Settings()).oauth
