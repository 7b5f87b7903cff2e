"""The local web chat in a real browser: Debian's Chromium driven by Playwright.

Set PULSECOACH_SCREENSHOT=1 to save docs/local-chat.png. Under CI a missing
Chromium (or Playwright) fails the run; elsewhere these tests are skipped.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import Pulsecoach, build_web_app
from bot.core.messages import (
    Button,
    Buttons,
    Choice,
    Context,
    Divider,
    Message,
    Question,
    Text,
    TextInput,
)
from bot.settings import Settings
from storage.channels import local_inbox
from storage.core.models import Membership, Person, Team, Workspace

try:
    from playwright.async_api import Browser, Page, async_playwright, expect
except ImportError:  # pragma: no cover - depends on the environment
    async_playwright = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "local-chat.png"
# Read at import: the `no_env` fixture clears PULSECOACH_* before the tests run.
TAKE_SCREENSHOT = os.environ.get("PULSECOACH_SCREENSHOT") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required under CI=true; run .ci/run to install it)")
    pytest.skip(reason)


def _chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.access(path, os.X_OK):
        _unavailable("Chromium not found: apt-get install -y chromium")
    if async_playwright is None:
        _unavailable("the playwright Python package is not installed")
    return path


@dataclass
class Server:
    url: str
    app: Pulsecoach
    maya: int


async def seed(app: Pulsecoach) -> int:
    """A local workspace: Maya is an executive on two teams, Sam coaches one."""
    async with app.db.session() as session:
        workspace = Workspace(key="local", name="Local", channel="local", external_id="local")
        session.add(workspace)
        await session.flush()
        assert workspace.id is not None
        maya = Person(workspace_id=workspace.id, handle="maya", name="Maya Chen")
        sam = Person(workspace_id=workspace.id, handle="sam", name="Sam Okafor")
        north = Team(workspace_id=workspace.id, key="north", name="North leadership")
        south = Team(workspace_id=workspace.id, key="south", name="South leadership")
        session.add_all([maya, sam, north, south])
        await session.flush()
        assert maya.id and sam.id and north.id and south.id
        session.add_all(
            [
                Membership(team_id=north.id, person_id=maya.id, role="executive"),
                Membership(team_id=south.id, person_id=maya.id, role="executive"),
                Membership(team_id=north.id, person_id=sam.id, role="coach"),
            ]
        )
        return maya.id


@pytest.fixture
async def server(tmp_path: Path, no_env: None) -> AsyncIterator[Server]:
    settings = Settings(PULSECOACH_DATABASE_URL=f"sqlite:///{tmp_path / 'browser.db'}")
    app = Pulsecoach.build(settings)
    runner = web.AppRunner(build_web_app(app, run_scheduler=False), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        maya = await seed(app)
        yield Server(url=f"http://{host}:{port}/", app=app, maya=maya)
    finally:
        await runner.cleanup()


@pytest.fixture
async def page(server: Server) -> AsyncIterator[Page]:
    executable = _chromium()
    async with async_playwright() as playwright:
        browser: Browser = await playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 860})
            tab = await context.new_page()
            errors: list[str] = []
            tab.on("pageerror", lambda exc: errors.append(str(exc)))
            yield tab
            assert errors == [], f"JavaScript errors on the page: {errors}"
        finally:
            await browser.close()


async def push(server: Server, message: Message) -> None:
    """Deliver a bot message the way the scheduler would (the page learns by polling)."""
    async with server.app.db.session() as session:
        await local_inbox.upsert(
            session, server.maya, message.ref, "bot", message.model_dump(mode="json")
        )


def checkin(selected: str | None = None) -> Message:
    return Message(
        ref="pulse:north:1",
        text="Weekly check-in",
        blocks=(
            Text(text="Weekly check-in · North leadership", style="heading"),
            Question(
                action_id="test.rate",
                prompt="In this team, it is safe to raise a *difficult* topic.",
                choices=tuple(Choice(value=str(n), label=str(n)) for n in range(1, 6)),
                selected=selected,
                value_prefix="q1:",
                low_label="Strongly disagree",
                high_label="Strongly agree",
            ),
            TextInput(input_id="note", label="Anything to add? (optional)", placeholder="…"),
            Buttons(buttons=(Button(action_id="home.help", label="Need help?"),)),
            Divider(),
            Context(lines=("Answers are anonymous; your coach sees the team's trend only.",)),
        ),
    )


async def test_chat_as_an_executive(server: Server, page: Page) -> None:
    await page.goto(server.url)
    await expect(page.get_by_role("heading", name="pulsecoach — local chat")).to_be_visible()

    # Pick the executive; the choice lands in the URL hash.
    maya = page.get_by_test_id("persona-maya")
    await expect(maya).to_contain_text("Maya Chen")
    await expect(maya).to_contain_text("executive")
    await expect(page.get_by_test_id("persona-sam")).to_contain_text("coach")
    await maya.click()
    await expect(maya).to_have_attribute("aria-pressed", "true")
    assert page.url.endswith("#maya")

    # Say "help": our line on the right, the bot's answer with buttons on the left.
    composer = page.get_by_test_id("composer")
    await composer.fill("help")
    await page.get_by_test_id("send").click()
    await expect(composer).to_have_value("")
    user_line = page.locator("article.msg-user")
    await expect(user_line).to_have_count(1)
    await expect(user_line).to_contain_text("help")
    help_message = page.locator("article.msg-bot", has_text="Hi, I'm pulsecoach")
    await expect(help_message).to_have_count(1)
    await expect(help_message.locator("code").first).to_have_text("help")  # `help` markup

    # "My teams" adds a message listing both teams and the role.
    teams_button = help_message.get_by_test_id("action-home.teams")
    await expect(teams_button).to_have_text("My teams")
    await teams_button.click()
    teams = page.locator("article.msg-bot", has_text="Your teams")
    await expect(teams).to_have_count(1)
    await expect(teams.locator("dl.fields")).to_contain_text("North leadership")
    await expect(teams.locator("dl.fields")).to_contain_text("South leadership")
    await expect(teams.locator("dd").first).to_have_text("executive")

    # "Help" updates the help message in place (same element id, version 2).
    help_id = await help_message.get_attribute("data-testid")
    await help_message.get_by_test_id("action-home.help").click()
    same = page.get_by_test_id(help_id or "")
    await expect(same).to_have_attribute("data-version", "2")
    await expect(same).to_contain_text("(edited)")
    await expect(page.locator("article.msg")).to_have_count(3)

    # A message from the scheduler shows up through polling, scale and all.
    await push(server, checkin())
    pulse = page.locator("article.msg-bot", has_text="Weekly check-in")
    await expect(pulse).to_be_visible(timeout=5000)
    scale = pulse.get_by_test_id("action-test.rate")
    await expect(scale).to_have_count(5)
    await expect(scale.nth(3)).to_have_attribute("data-value", "q1:4")
    await expect(pulse.locator(".scale-labels")).to_contain_text("Strongly disagree")
    await expect(pulse.locator(".question-prompt strong")).to_have_text("difficult")

    # Updated in place by the server: the selected choice is highlighted.
    await push(server, checkin(selected="4"))
    await expect(scale.nth(3)).to_have_attribute("aria-pressed", "true", timeout=5000)
    await expect(scale.nth(0)).to_have_attribute("aria-pressed", "false")
    await expect(pulse).to_have_attribute("data-version", "2")

    if TAKE_SCREENSHOT:
        SCREENSHOT.parent.mkdir(exist_ok=True)
        await page.set_viewport_size({"width": 1280, "height": 1080})  # the whole conversation
        await page.get_by_test_id("messages").evaluate("box => box.scrollTo(0, box.scrollHeight)")
        await page.screenshot(path=str(SCREENSHOT))

    # An action the server refuses shows its error as a toast, and changes nothing.
    await scale.nth(1).click()
    toast = page.get_by_test_id("toast")
    await expect(toast).to_be_visible()
    await expect(toast).to_contain_text("unknown action_id 'test.rate'")
    await expect(pulse).to_have_attribute("data-version", "2")

    # Typed input travels with the next click in the same message.
    pulse_id = int((await pulse.get_attribute("data-id")) or 0)
    await pulse.get_by_test_id("input-note").fill("Running late on the offsite plan")
    async with page.expect_request(lambda r: r.url.endswith("/actions")) as caught:
        await pulse.get_by_test_id("action-home.help").click()
    body = json.loads((await caught.value).post_data or "{}")
    assert body["action_id"] == "home.help"
    assert body["inputs"] == {"note": "Running late on the offsite plan"}
    assert body["message_id"] == pulse_id
    # home.help answers by replacing the clicked message with the help text.
    replaced = page.get_by_test_id(f"message-{pulse_id}")
    await expect(replaced).to_have_attribute("data-version", "3")
    await expect(replaced).to_contain_text("Hi, I'm pulsecoach")


async def test_enter_sends_and_reload_keeps_the_persona(server: Server, page: Page) -> None:
    await page.goto(server.url + "#maya")
    await expect(page.get_by_test_id("persona-maya")).to_have_attribute("aria-pressed", "true")
    await expect(page.get_by_test_id("current-persona")).to_contain_text("Maya Chen")

    composer = page.get_by_test_id("composer")
    await composer.fill("teams")
    await composer.press("Enter")
    await expect(page.locator("article.msg-bot", has_text="Your teams")).to_have_count(1)

    await page.reload()
    await expect(page.get_by_test_id("persona-maya")).to_have_attribute("aria-pressed", "true")
    await expect(page.locator("article.msg")).to_have_count(2)

    # Switching persona shows that person's own (empty) chat.
    await page.get_by_test_id("persona-sam").click()
    assert page.url.endswith("#sam")
    await expect(page.locator("article.msg")).to_have_count(0)
    await expect(page.locator("#empty")).to_contain_text("No messages yet")


async def test_strings_are_rendered_as_text(server: Server, page: Page) -> None:
    hostile = "<img src=x onerror=\"document.title='pwned'\"> *bold* `code`"
    await push(server, Message(ref="x", text=hostile, blocks=(Text(text=hostile),)))
    await page.goto(server.url + "#maya")
    message = page.locator("article.msg-bot")
    await expect(message).to_contain_text("<img src=x onerror=\"document.title='pwned'\">")
    await expect(message.locator("strong")).to_have_text("bold")
    await expect(message.locator("code")).to_have_text("code")
    assert await message.locator("img").count() == 0
    assert await page.title() == "pulsecoach — local chat"
