"""The Slack Messenger behind the outbox sender: 429s honoured, 5xx and timeouts
retried, permanent errors deactivate the address, nothing lost and nothing doubled."""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

import scheduler.runtime.delivery as delivery_module
from bot.core.messages import notice
from bot.core.messenger import PermanentDeliveryError, TemporaryDeliveryError
from bot.slack.link import SlackLink
from bot.slack.sender import SlackMessenger
from handlers.pulse.rounds import open_round
from storage.core.models import ChatAddress, OutboxMessage
from tests.support.clock import FakeClock
from tests.support.slack.helpers import EXECUTIVES, SlackOrg, slack_org

ADDRESS = {"user_id": "UANA", "team_id": "T0PULSE"}


@pytest.fixture
async def org(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_env: None):
    async with slack_org(tmp_path, clock, monkeypatch) as running:
        yield running


def messenger(org: SlackOrg) -> SlackMessenger:
    found = org.app.messengers["slack"]
    assert isinstance(found, SlackMessenger)
    return found


async def outbox(org: SlackOrg) -> list[OutboxMessage]:
    async with org.app.db.session() as session:
        return list((await session.exec(select(OutboxMessage))).all())


async def drain_until_done(org: SlackOrg, rounds: int = 12) -> None:
    for _ in range(rounds):
        await org.app.sender.drain()
        if all(row.status != "pending" for row in await outbox(org) if row.kind == "pulse"):
            return
        org.clock.advance(timedelta(seconds=60))


def invites_per_user(org: SlackOrg) -> Counter[str]:
    return Counter(user for user in EXECUTIVES.values() for _ in org.standin.dm(user))


async def test_posts_go_to_the_user_id_and_a_second_send_updates_in_place(org: SlackOrg) -> None:
    slack = messenger(org)
    first = await slack.deliver(org.ids["ana"], ADDRESS, notice("note:1", "one"))
    again = await slack.deliver(org.ids["ana"], ADDRESS, notice("note:1", "two"))
    assert first.external_ref == again.external_ref
    [post] = org.standin.of("chat.postMessage")
    assert post.args["channel"] == "UANA"  # no conversations.open on the way
    assert post.args["metadata"]["event_payload"]["ref"] == "note:1"
    assert len(post.args["metadata"]["event_payload"]["version"]) == 16
    assert len(org.standin.of("chat.update")) == 1
    assert [m["text"] for m in org.standin.dm("UANA")] == ["two"]
    assert org.standin.of("conversations.open") == []


async def test_429_is_honoured_with_retry_after(org: SlackOrg) -> None:
    org.standin.fail("chat.postMessage", retry_after=1)
    await open_round(org.app.services, "leadership")
    started = time.monotonic()
    result = await org.app.sender.drain()
    assert result.retried == 1 and result.sent == 3
    # Everything after the 429 waited for Retry-After, instead of hammering Slack.
    assert time.monotonic() - started >= 1.0
    assert len(org.standin.of("chat.postMessage", ok=False)) == 1
    [retry] = [r for r in await outbox(org) if r.status == "pending" and r.kind == "pulse"]
    assert retry.not_before == org.clock.now() + timedelta(seconds=1)
    await drain_until_done(org)
    assert invites_per_user(org) == Counter(dict.fromkeys(EXECUTIVES.values(), 1))


async def test_a_429_is_no_failed_attempt(org: SlackOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery_module, "MAX_ATTEMPTS", 1)  # any counted failure gives up
    org.standin.fail("chat.postMessage", retry_after=1, error="ratelimited")
    await open_round(org.app.services, "leadership")
    result = await org.app.sender.drain()
    assert (result.retried, result.failed, result.sent) == (1, 0, 3)
    [waiting] = [r for r in await outbox(org) if r.status == "pending" and r.kind == "pulse"]
    assert waiting.attempts == 0 and waiting.last_error == "slack chat.postMessage: ratelimited"
    await drain_until_done(org)
    assert invites_per_user(org) == Counter(dict.fromkeys(EXECUTIVES.values(), 1))


async def test_5xx_is_retried_and_looked_for_before_posting_again(org: SlackOrg) -> None:
    org.standin.fail("chat.postMessage", status=500)
    org.standin.fail("chat.postMessage", status=503, posted=True)  # it did post, then failed
    await open_round(org.app.services, "leadership")
    await drain_until_done(org)
    assert invites_per_user(org) == Counter(dict.fromkeys(EXECUTIVES.values(), 1))
    assert len(org.standin.of("conversations.history")) == 2
    # The post found already shows this content: no chat.update (tier 3) to wait on.
    assert org.standin.of("chat.update") == []
    assert all(r.status == "sent" for r in await outbox(org) if r.kind == "pulse")


async def test_a_found_post_with_other_content_is_updated(org: SlackOrg) -> None:
    slack = messenger(org)
    org.standin.fail("chat.postMessage", status=503, posted=True)
    with pytest.raises(TemporaryDeliveryError):
        await slack.deliver(org.ids["ana"], ADDRESS, notice("note:v", "first"))
    # Before the retry learns the post went through, the message has moved on.
    await slack.deliver(org.ids["ana"], ADDRESS, notice("note:v", "second"))
    [shown] = org.standin.dm("UANA")
    assert "second" in str(shown["blocks"])
    assert len(org.standin.of("chat.update")) == 1


async def test_an_unreadable_answer_is_retried_not_a_failed_drain(org: SlackOrg) -> None:
    org.standin.unreadable["chat.postMessage"] = 1  # posted, then the JSON was cut off
    await open_round(org.app.services, "leadership")
    result = await org.app.sender.drain()
    assert (result.retried, result.failed, result.sent) == (1, 0, 3)
    [waiting] = [r for r in await outbox(org) if r.status == "pending" and r.kind == "pulse"]
    assert waiting.last_error == "slack chat.postMessage: unreadable_response"
    await drain_until_done(org)
    # The post had gone through: the retry found it in the DM instead of posting again.
    assert invites_per_user(org) == Counter(dict.fromkeys(EXECUTIVES.values(), 1))
    assert len(org.standin.of("conversations.history")) == 1


async def test_timeout_after_the_post_does_not_double_it(org: SlackOrg) -> None:
    slack = messenger(org)
    short = SlackLink(dataclasses.replace(slack.link.config, timeout=1), org.app.db)
    impatient = SlackMessenger(short)
    org.standin.delay = 1.5
    with pytest.raises(TemporaryDeliveryError):
        await impatient.deliver(org.ids["ana"], ADDRESS, notice("note:t", "once"))
    org.standin.delay = 0
    await impatient.deliver(org.ids["ana"], ADDRESS, notice("note:t", "once"))
    await short.close()
    assert len(org.standin.dm("UANA")) == 1


@pytest.mark.parametrize(
    "error", ["user_not_found", "account_inactive", "invalid_auth", "is_archived"]
)
async def test_permanent_errors_end_retries_and_deactivate_the_address(
    org: SlackOrg, error: str
) -> None:
    org.standin.fail("chat.postMessage", error=error, status=200)
    await open_round(org.app.services, "leadership")
    result = await org.app.sender.drain()
    assert result.failed == 1 and result.retried == 0 and result.sent == 3
    async with org.app.db.session() as session:
        inactive = (
            await session.exec(select(ChatAddress).where(ChatAddress.active == False))  # noqa: E712
        ).all()
    assert len(inactive) == 1 and inactive[0].person_id == org.ids["ana"]
    assert await org.app.sender.drain() == type(result)()  # nothing left to try


async def test_an_unknown_user_id_is_permanent(org: SlackOrg) -> None:
    org.standin.add_user("USOMEONE")
    with pytest.raises(PermanentDeliveryError):
        await messenger(org).deliver(org.ids["ben"], {"user_id": "UNOBODY"}, notice("n:1", "x"))


async def test_pacing_keeps_under_the_workspace_limit(org: SlackOrg) -> None:
    org.standin.limit("chat.postMessage", 600)
    slack = messenger(org)
    started = time.monotonic()
    for n in range(25):
        await slack.deliver(org.ids["ben"], {"user_id": "UBEN"}, notice(f"n:{n}", str(n)))
    elapsed = time.monotonic() - started
    assert org.standin.of("chat.postMessage", ok=False) == []
    assert elapsed >= 24 * 60 / 600 * 0.99  # spread out: about 10 a second, not a burst


async def test_refused_blocks_are_sent_again_without_images_then_as_text(org: SlackOrg) -> None:
    from bot.core.messages import Button, Buttons, Image, Message, Text

    message = Message(
        ref="digest:1",
        text="Digest",
        blocks=(
            Text(text="Digest"),
            Image(url="https://charts.example.com/1.png", alt="chart"),
            Buttons(buttons=(Button(action_id="home.help", label="Help"),)),
        ),
    )
    org.standin.fail("chat.postMessage", error="invalid_blocks", status=200)
    await messenger(org).deliver(org.ids["ana"], ADDRESS, message)
    [posted] = org.standin.dm("UANA")
    assert [b["type"] for b in posted["blocks"]] == ["section", "actions"]
    org.standin.fail("chat.postMessage", error="invalid_blocks", status=200, count=2)
    await messenger(org).deliver(org.ids["ben"], {"user_id": "UBEN"}, message)
    [plain] = org.standin.dm("UBEN")
    assert plain["blocks"] is None and plain["text"] == "Digest"
