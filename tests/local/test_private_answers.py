"""An anonymous pulse answered in the local chat through the private form, in Chromium:
the kept message is a short prompt, the form fits a laptop screen, the comment counts
against its limit without being cut, and no stored message holds a value (#13, #15)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import text

from bot.app import Pulsecoach, build_web_app
from handlers.pulse.rounds import open_round
from tests.local.test_browser import CHROMIUM_ARGS, _chromium
from tests.support.clock import FakeClock
from tests.support.contracts import kept
from tests.support.pulse_fixtures import ITEMS, build_org

try:
    from playwright.async_api import Page, async_playwright, expect
except ImportError:  # pragma: no cover - depends on the environment
    async_playwright = None  # type: ignore[assignment]

SCORES = [2, 6, 3, 5, 1, 7, 6]
COMMENT = "We decide fast; I'd like us to hear the quiet voices first."


@dataclass
class Running:
    url: str
    app: Pulsecoach
    round_id: int


@pytest.fixture
async def running(tmp_path: Path, clock: FakeClock, no_env: None) -> AsyncIterator[Running]:
    app, _ = await build_org(tmp_path, clock)
    runner = web.AppRunner(build_web_app(app, run_scheduler=False), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        opened = await open_round(app.services, "leadership")
        await app.sender.drain()
        yield Running(f"http://{host}:{port}/", app, opened.round_id)
    finally:
        await runner.cleanup()


@pytest.fixture
async def page(running: Running) -> AsyncIterator[Page]:
    executable = _chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 800})
            tab = await context.new_page()
            errors: list[str] = []
            tab.on("pageerror", lambda exc: errors.append(str(exc)))
            yield tab
            assert errors == [], f"JavaScript errors on the page: {errors}"
        finally:
            await browser.close()


async def test_an_anonymous_pulse_is_answered_in_the_private_form(
    running: Running, page: Page
) -> None:
    await page.goto(running.url + "#ana")
    opener = page.get_by_test_id("action-pulse.open")
    await expect(opener).to_have_text("Answer")
    message = page.locator("article.msg", has=opener)
    box = await message.bounding_box()
    assert box is not None and box["height"] < 320  # a short prompt, not 7 rows of 7

    await opener.click()
    form = page.get_by_test_id("private-form")
    await expect(form).to_be_visible()
    size = await form.bounding_box()
    assert size is not None and size["height"] <= 800  # all 7 items on one laptop screen
    overflow = await form.locator(".pf-body").evaluate("b => b.scrollHeight - b.clientHeight")
    assert overflow <= 0, "the form should not scroll on a 1280x800 screen"
    for item, score in zip(ITEMS, SCORES, strict=True):
        await page.get_by_test_id(f"choice-{item}-{score}").check(force=True)

    comment = page.get_by_test_id("form-input-comment")
    count = page.get_by_test_id("count-comment")
    await expect(count).to_have_text("0 / 1000")
    await comment.fill("x" * 1003)  # nothing is cut: the counter says what to do
    await expect(count).to_contain_text("1003 / 1000 — 3 over the limit")
    await expect(page.get_by_test_id("form-submit")).to_be_disabled()
    assert len(await comment.input_value()) == 1003
    await comment.fill(COMMENT)
    await expect(count).to_have_text(f"{len(COMMENT)} / 1000")
    await page.get_by_test_id("form-submit").click()
    await expect(form).to_have_count(0)
    await expect(message).to_contain_text("You answered")
    await expect(page.get_by_test_id("action-pulse.open")).to_have_text("Change your answers")

    # Reopened: her own answers and comment, marked saved; a resend stores it once.
    await page.get_by_test_id("action-pulse.open").click()
    await expect(page.get_by_test_id(f"choice-{ITEMS[1]}-{SCORES[1]}")).to_be_checked()
    await expect(page.get_by_test_id("form-input-comment")).to_have_value(COMMENT)
    await expect(page.get_by_test_id("count-comment")).to_have_text(
        f"{len(COMMENT)} / 1000 · saved"
    )
    await page.get_by_test_id("form-submit").click()
    await expect(page.get_by_test_id("private-form")).to_have_count(0)

    async with running.app.db.engine.connect() as connection:
        answers = dict(
            (await connection.execute(text("SELECT item_key, score FROM pulse_open_answer"))).all()
        )
        comments = (await connection.execute(text("SELECT text FROM pulse_open_comment"))).all()
    assert answers == dict(zip(ITEMS, SCORES, strict=True))
    assert [c[0] for c in comments] == [COMMENT]
    stored = await kept(running.app)
    assert COMMENT not in stored and '"selected"' not in stored
    assert '"question"' not in stored and "quiet voices" not in stored
