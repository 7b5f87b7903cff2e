"""Each persona's main journey through the demo organisation in a real browser, at a
laptop's width (1280 × 900) and a phone's (390 × 844): replies where people look,
refusals in the conversation, figures that agree, the admin form, and a layout that
fits. Screenshots of every journey's end are kept in test-artifacts/browser/
(PULSECOACH_ARTIFACTS overrides the folder)."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import Pulsecoach, build_web_app
from bot.demo.load import load_demo
from bot.settings import Settings
from tests.local.test_browser import CHROMIUM_ARGS, ROOT, _chromium

try:
    from playwright.async_api import Locator, Page, async_playwright, expect
except ImportError:  # pragma: no cover - depends on the environment
    async_playwright = None  # type: ignore[assignment]

ARTIFACTS = Path(os.environ.get("PULSECOACH_ARTIFACTS") or ROOT / "test-artifacts" / "browser")
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture(autouse=True, scope="module")
def artifacts() -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)


@dataclass
class Demo:
    url: str
    app: Pulsecoach


@pytest.fixture
async def demo(tmp_path: Path, no_env: None) -> AsyncIterator[Demo]:
    settings = Settings(PULSECOACH_DATABASE_URL=f"sqlite:///{tmp_path / 'demo.db'}")
    app = Pulsecoach.build(settings)
    runner = web.AppRunner(build_web_app(app, run_scheduler=False), access_log=None)
    await runner.setup()
    try:
        await load_demo(app)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield Demo(url=f"http://{host}:{port}/", app=app)
    finally:
        await runner.cleanup()


@pytest.fixture(params=sorted(WIDTHS))
async def page(request: pytest.FixtureRequest, demo: Demo) -> AsyncIterator[Page]:
    executable = _chromium()
    width, height = WIDTHS[request.param]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": width, "height": height})
            tab = await context.new_page()
            errors: list[str] = []
            missing: list[str] = []
            tab.on("pageerror", lambda exc: errors.append(str(exc)))
            tab.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
            yield tab
            assert errors == [], f"JavaScript errors on the page: {errors}"
            assert missing == [], f"not found: {missing}"  # the favicon included
        finally:
            await browser.close()


async def fits(page: Page) -> None:
    """No horizontal scrolling, and the composer's Send button in full view."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    height = page.viewport_size["height"] if page.viewport_size else 0
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    assert await page.evaluate("document.body.scrollWidth") <= width
    box = await page.get_by_test_id("send").bounding_box()
    assert box is not None
    assert 0 <= box["x"] and box["x"] + box["width"] <= width
    assert 0 <= box["y"] and box["y"] + box["height"] <= height


async def say(page: Page, said: str) -> None:
    """Type and send; wait for our line to show up in the chat."""
    before = await page.locator("article.msg-user").count()
    await page.get_by_test_id("composer").fill(said)
    await page.get_by_test_id("send").click()
    await expect(page.locator("article.msg-user")).to_have_count(before + 1)
    await expect(page.get_by_test_id("composer")).to_have_value("")


def last_bot(page: Page) -> Locator:
    return page.locator("article.msg").last


async def open_as(page: Page, demo: Demo, handle: str) -> None:
    await page.goto(demo.url + "#" + handle)
    await expect(page.get_by_test_id(f"persona-{handle}")).to_have_attribute("aria-pressed", "true")
    await expect(page.get_by_test_id("status")).to_have_attribute("data-online", "yes")


async def keep(page: Page, name: str) -> None:
    width = page.viewport_size["width"] if page.viewport_size else 0
    await page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"))


async def test_executive_journey(demo: Demo, page: Page) -> None:
    await open_as(page, demo, "maya")
    await fits(page)

    # Results: a new message at the bottom, the spread labelled, the trend readable.
    await say(page, "results")
    results = last_bot(page)
    await expect(results).to_contain_text("Pulse results: Northwind Leadership Team")
    await expect(results).to_contain_text("How people answered, as asked (1 = Strongly")
    bars = results.locator(".spark .spark-bar")
    assert await bars.count() >= 6
    heights = {(await bar.bounding_box() or {"height": 0})["height"] for bar in await bars.all()}
    assert len(heights) > 1, "the sparkline is a solid bar"
    first_id = await results.get_attribute("data-id")

    # Asked again, the answer comes again at the bottom; the first is untouched.
    await say(page, "help")
    await say(page, "results")
    again = last_bot(page)
    await expect(again).to_contain_text("Pulse results")
    assert await again.get_attribute("data-id") != first_id
    await expect(page.get_by_test_id(f"message-{first_id}")).to_have_attribute("data-version", "1")

    # Gibberish: said it wasn't understood, with the closest command.
    await say(page, "reslts")
    not_understood = page.locator("article.msg-bot", has_text="didn't understand “reslts”")
    await expect(not_understood).to_have_count(1)
    await expect(not_understood.locator("code")).to_have_text("results")

    # A refusal is a bot message under the command, with whom to ask; no pop-up.
    await say(page, "pulse close")
    refusal = last_bot(page)
    await expect(refusal).to_contain_text("Only an admin of Northwind Leadership Team")
    await expect(refusal).to_contain_text("ask Sam Becker")
    await expect(refusal.locator(".text-notice")).to_have_count(1)
    await expect(page.get_by_test_id("toast")).to_be_hidden()
    await fits(page)
    await keep(page, "executive")


async def test_coach_journey(demo: Demo, page: Page) -> None:
    await open_as(page, demo, "elena")
    await fits(page)

    # The score on the home card is the score in results and in the digest.
    await say(page, "home")
    card = page.locator("article.msg-bot", has_text="Latest results: Northwind")
    await expect(card).to_have_count(1)
    found = re.search(r"Score (\d+)/100", await card.inner_text())
    assert found is not None
    score = found[1]

    await say(page, "results")
    results = last_bot(page)
    await expect(results.locator("dd").first).to_have_text(re.compile(rf"^{score}\b"))

    await say(page, "digest")
    await expect(last_bot(page)).to_contain_text("is on its way")
    await demo.app.sender.drain()  # what the scheduler's sender does every few seconds
    digest = page.locator("article.msg-bot", has_text="Coach digest: Northwind")
    await expect(digest).to_have_count(1, timeout=5000)
    await expect(digest.locator("dd").first).to_have_text(re.compile(rf"^{score}\b"))
    await expect(digest).to_contain_text("of the last 4 answered check-ins")
    await expect(digest).not_to_contain_text("no comments could be used")
    await expect(digest.locator("img.image")).to_have_count(1)

    await say(page, "digests")
    await expect(last_bot(page)).to_contain_text("Past digests")
    await fits(page)
    await keep(page, "coach")


async def test_admin_journey(demo: Demo, page: Page) -> None:
    await open_as(page, demo, "sam")
    await fits(page)
    width, height = page.viewport_size["width"], page.viewport_size["height"]  # type: ignore[index]
    # The admin's own persona is in full view: last in the sidebar on a laptop, scrolled
    # into the strip of personas on a phone.
    box = await page.get_by_test_id("persona-sam").bounding_box()
    shown = await page.get_by_test_id("personas").bounding_box()
    assert box is not None and shown is not None
    assert shown["y"] <= box["y"] and box["y"] + box["height"] <= shown["y"] + shown["height"]
    assert shown["x"] <= box["x"] and box["x"] + box["width"] <= shown["x"] + shown["width"] + 1
    assert box["y"] + box["height"] <= height and box["x"] + box["width"] <= width

    # One control per setting: selects for fixed choices, numbers for counts.
    await say(page, "admin")
    await expect(last_bot(page)).to_contain_text("Pulse program: Northwind Leadership Team")
    form = page.get_by_test_id(f"message-{await last_bot(page).get_attribute('data-id')}")
    await expect(form.locator("dl.fields")).to_have_count(0)
    await expect(form.locator("select[data-testid=input-weekday] option")).to_have_count(7)
    await expect(form.locator("select[data-testid=input-privacy]")).to_have_value("anonymous")
    await expect(form.get_by_test_id("input-window_hours")).to_have_attribute("type", "number")

    # Every error at once, each beside its field; nothing saved, no pop-up.
    await form.get_by_test_id("input-at").fill("25:00")
    await form.get_by_test_id("input-min_respondents").fill("2")
    await form.get_by_test_id("action-admin.save").click()
    await expect(form.get_by_test_id("error-at")).to_contain_text("'25:00' is not a time")
    await expect(form.get_by_test_id("error-min_respondents")).to_be_visible()
    await expect(form.get_by_test_id("input-at")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_test_id("toast")).to_be_hidden()

    # Fixed, saved: the confirmation says what the settings do.
    await form.get_by_test_id("input-at").fill("10:15")
    await form.get_by_test_id("input-min_respondents").fill("3")
    await form.get_by_test_id("input-weekday").select_option("thu")
    await form.get_by_test_id("input-window_hours").fill("48")
    await form.get_by_test_id("action-admin.save").click()
    saved = page.locator("article.msg-bot", has_text="Saved (")
    await expect(saved).to_have_count(1)
    await expect(saved).to_contain_text(
        re.compile(
            r"Next pulse: Thursday \d\d \w{3}, 10:15 in each person's time zone, open 48 h, "
            r"every week"
        )
    )
    await expect(form.get_by_test_id("error-at")).to_have_count(0)

    # Preview and test-send work from the form; their answers come at the bottom.
    await form.get_by_test_id("action-admin.preview").click()
    await expect(last_bot(page)).to_contain_text("Planned pulses for leadership")
    await expect(last_bot(page)).to_contain_text("Thu")
    await form.get_by_test_id("action-admin.test").click()
    await expect(last_bot(page)).to_contain_text("A test pulse is on its way to you")
    await demo.app.sender.drain()
    await expect(page.locator("article.msg-bot", has_text="Pulse check-in")).to_have_count(
        1, timeout=5000
    )

    # A second send is refused in the conversation, naming the chat command to use.
    await say(page, "pulse send")
    refusal = last_bot(page)
    await expect(refusal).to_contain_text("is already open")
    await expect(refusal.locator("code")).to_have_text("pulse close leadership")
    await fits(page)
    await keep(page, "admin")
