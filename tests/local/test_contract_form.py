"""A contract check answered in the local chat through its private form, in Chromium at
a laptop's width and a phone's: the kept message shows the norms and progress only, the
form shows her own ratings and comment when reopened, and no stored message holds a
rating or the comment (#13)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import Pulsecoach, build_web_app
from storage.contracts.models import ContractCheck
from tests.local.test_browser import CHROMIUM_ARGS, _chromium
from tests.local.test_journeys import WIDTHS
from tests.support.clock import FakeClock
from tests.support.contracts import NORMS, answers_of, kept, open_contract_check
from tests.support.pulse_fixtures import build_org

try:
    from playwright.async_api import Page, async_playwright, expect
except ImportError:  # pragma: no cover - depends on the environment
    async_playwright = None  # type: ignore[assignment]

COMMENT = "We say yes in the room and no in the hallway."


@dataclass
class Running:
    url: str
    app: Pulsecoach
    check: ContractCheck
    ana: int


@pytest.fixture
async def running(tmp_path: Path, clock: FakeClock, no_env: None) -> AsyncIterator[Running]:
    app, ids = await build_org(tmp_path, clock)
    runner = web.AppRunner(build_web_app(app, run_scheduler=False), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        check = await open_contract_check(app, ids["team"])
        yield Running(f"http://{host}:{port}/", app, check, ids["ana"])
    finally:
        await runner.cleanup()


@pytest.fixture(params=sorted(WIDTHS))
async def page(request: pytest.FixtureRequest, running: Running) -> AsyncIterator[Page]:
    executable = _chromium()
    width, height = WIDTHS[request.param]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": width, "height": height})
            tab = await context.new_page()
            errors: list[str] = []
            tab.on("pageerror", lambda exc: errors.append(str(exc)))
            yield tab
            assert errors == [], f"JavaScript errors on the page: {errors}"
        finally:
            await browser.close()


async def test_a_contract_check_is_rated_in_the_private_form(running: Running, page: Page) -> None:
    width = page.viewport_size["width"] if page.viewport_size else 0
    await page.goto(running.url + "#ana")
    opener = page.get_by_test_id("action-contract.open")
    await expect(opener).to_have_text("Rate")
    message = page.locator("article.msg", has=opener)
    await expect(message).to_contain_text(NORMS[0])
    assert await message.locator("input, textarea").count() == 0  # no scale, no comment box

    await opener.click()
    form = page.get_by_test_id("private-form")
    await expect(form).to_be_visible()
    box = await form.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    first, second = running.check.norm_keys
    await page.get_by_test_id(f"choice-{first}-4").check(force=True)
    await page.get_by_test_id(f"choice-{second}-2").check(force=True)
    await page.get_by_test_id("form-input-comment").fill(COMMENT)
    await expect(page.get_by_test_id("count-comment")).to_have_text(f"{len(COMMENT)} / 1000")
    await page.get_by_test_id("form-submit").click()
    await expect(form).to_have_count(0)
    await expect(message).to_contain_text("all rated")
    await expect(page.get_by_test_id("action-contract.open")).to_have_text("Change your ratings")
    assert await page.evaluate("document.documentElement.scrollWidth") <= width

    # Reopened: her own ratings and comment, marked saved.
    await page.get_by_test_id("action-contract.open").click()
    await expect(page.get_by_test_id(f"choice-{first}-4")).to_be_checked()
    await expect(page.get_by_test_id(f"choice-{second}-2")).to_be_checked()
    await expect(page.get_by_test_id("form-input-comment")).to_have_value(COMMENT)
    await expect(page.get_by_test_id("count-comment")).to_have_text(
        f"{len(COMMENT)} / 1000 · saved"
    )
    await page.get_by_test_id("form-submit").click()
    await expect(page.get_by_test_id("private-form")).to_have_count(0)

    assert await answers_of(running.app, running.check.id or 0, running.ana) == (
        {first: 4, second: 2},
        COMMENT,
        True,
    )
    stored = await kept(running.app)
    assert "hallway" not in stored and '"selected"' not in stored and '"question"' not in stored
