"""The digest's trend chart in Slack: shown by URL where Slack can fetch it (a public
https server), else uploaded as a PNG into the digest's thread with the real slack_sdk
(files_upload_v2) against the stand-in; once per post, never failing the delivery."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.charts import chart_images
from bot.core.messages import Image, Message
from bot.slack.sender import SlackMessenger
from handlers.digests.send import DigestOptions, send_digest
from handlers.digests.view import attachment_digest, chart_attachment
from storage.core.models import OutboxMessage
from storage.digests import queries as digests
from storage.digests.models import Digest
from tests.support.clock import FakeClock
from tests.support.digests import add_round
from tests.support.slack.helpers import EXECUTIVES, SlackOrg, block_action, slack_org
from tests.support.slack.standin import BOT_TOKEN

COACH = "UCORA"
DM = f"D{COACH}"
PUBLIC = "https://pulsecoach.example.com"
FILE_CALLS = ("files.getUploadURLExternal", "upload", "files.completeUploadExternal")


@pytest.fixture
async def org(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_env: None):
    async with slack_org(tmp_path, clock, monkeypatch) as running:
        yield running


@pytest.fixture
async def public_org(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_env: None
):
    settings = {"PULSECOACH_PUBLIC_URL": PUBLIC}
    async with slack_org(tmp_path, clock, monkeypatch, settings=settings) as running:
        yield running


async def with_history(org: SlackOrg) -> None:
    """Two closed rounds: enough for a trend, so the digest carries its chart."""
    everyone = tuple(EXECUTIVES)
    first = datetime(2026, 10, 26, 12, tzinfo=UTC)
    await add_round(org.app, org.ids, 1, first, dict.fromkeys(everyone, 6), invited=everyone)
    second = datetime(2026, 11, 16, 12, tzinfo=UTC)
    await add_round(org.app, org.ids, 2, second, dict.fromkeys(everyone, 4), invited=everyone)


async def send_and_drain(org: SlackOrg, occasion: str = "demand:1") -> Digest:
    await with_history(org)
    options = DigestOptions(public_url=org.app.settings.public_url)
    [sent] = await send_digest(
        org.app.services, "leadership", reason="on_demand", occasion=occasion, options=options
    )
    await org.app.sender.drain()
    async with org.app.db.session() as session:
        row = await digests.digest(session, sent.digest_id)
    assert row is not None
    return row


async def digest_outbox(org: SlackOrg) -> list[OutboxMessage]:
    async with org.app.db.session() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    return [r for r in rows if r.kind == "digest"]


def messenger(org: SlackOrg) -> SlackMessenger:
    found = org.app.messengers["slack"]
    assert isinstance(found, SlackMessenger)
    return found


def file_calls(org: SlackOrg) -> list[str]:
    return [c.method for c in org.standin.calls if c.method in FILE_CALLS]


def block_types(message: dict[str, Any]) -> list[str]:
    return [b["type"] for b in message["blocks"] or []]


async def test_without_a_public_url_the_chart_is_uploaded_into_the_digest_thread(
    org: SlackOrg,
) -> None:
    row = await send_and_drain(org)
    [image] = [b for b in Message.model_validate(row.message).blocks if isinstance(b, Image)]
    assert image.url.startswith("/charts/digests/")  # relative: Slack cannot fetch it
    assert image.attachment == chart_attachment(row.id or 0)
    [post] = org.standin.of("chat.postMessage")
    assert post.args["channel"] == COACH
    [digest] = org.standin.dm(COACH)
    assert "image" not in block_types(digest) and "section" in block_types(digest)
    # One upload, with the real files_upload_v2: URL, bytes, completion into the thread.
    assert file_calls(org) == list(FILE_CALLS)
    assert all(c.status == 200 and c.error is None for c in org.standin.calls)
    [shared] = org.standin.shared
    assert shared["data"].startswith(b"\x89PNG")
    assert shared["channel_id"] == DM and shared["thread_ts"] == digest["ts"]
    assert shared["filename"] == f"pulsecoach-digest-{row.id}-trend.png"
    assert shared["title"] == image.alt and shared["alt_txt"] == image.alt
    [asked] = org.standin.of("files.getUploadURLExternal")
    assert int(asked.args["length"]) == len(shared["data"])
    assert [(r.status, r.attempts) for r in await digest_outbox(org)] == [("sent", 1)]
    assert len(org.standin.dm(COACH)) == 1  # the file sits in the thread, not the DM


async def test_with_a_public_https_url_the_image_block_stays_and_nothing_is_uploaded(
    public_org: SlackOrg,
) -> None:
    org = public_org
    row = await send_and_drain(org)
    [digest] = org.standin.dm(COACH)
    [image] = [b for b in digest["blocks"] if b["type"] == "image"]
    assert image["image_url"].startswith(f"{PUBLIC}/charts/digests/{row.id}-")
    assert file_calls(org) == [] and org.standin.shared == []
    assert [r.status for r in await digest_outbox(org)] == ["sent"]


@pytest.mark.parametrize(
    ("method", "fault"),
    [
        ("files.getUploadURLExternal", {"error": "missing_scope", "status": 200}),
        ("upload", {"status": 500}),
        ("files.completeUploadExternal", {"status": 500}),
        ("files.completeUploadExternal", {"retry_after": 30}),
    ],
)
async def test_a_failed_upload_still_counts_as_sent_and_is_not_repeated(
    org: SlackOrg, caplog: pytest.LogCaptureFixture, method: str, fault: dict[str, Any]
) -> None:
    org.standin.fail(method, **fault)
    with caplog.at_level(logging.WARNING, logger="bot.slack.sender"):
        await send_and_drain(org)
    assert [(r.status, r.attempts) for r in await digest_outbox(org)] == [("sent", 1)]
    assert len(org.standin.of("chat.postMessage")) == 1 and len(org.standin.dm(COACH)) == 1
    assert org.standin.shared == []
    [warning] = [r for r in caplog.records if r.name == "bot.slack.sender"]
    assert warning.levelno == logging.WARNING and "could not upload" in warning.getMessage()
    assert BOT_TOKEN not in caplog.text
    if fault.get("error") == "missing_scope":
        assert "files:write" in warning.getMessage()
    # Nothing is left to retry: neither the post nor the upload.
    calls = len(org.standin.calls)
    org.clock.advance(timedelta(minutes=5))
    await org.app.sender.drain()
    assert len(org.standin.calls) == calls


async def test_a_429_on_the_upload_holds_that_method_in_the_workspace(org: SlackOrg) -> None:
    org.standin.fail("files.completeUploadExternal", retry_after=30)
    await send_and_drain(org)
    held = messenger(org).link.pacer._held
    assert held[("T0PULSE", "files.completeUploadExternal")] > 0
    assert ("T0PULSE", "chat.postMessage") not in held


async def test_a_retried_delivery_updates_in_place_and_uploads_nothing_more(
    org: SlackOrg,
) -> None:
    row = await send_and_drain(org)
    assert len(org.standin.shared) == 1
    message = Message.model_validate(row.message)
    address = {"user_id": COACH, "team_id": "T0PULSE"}
    again = await messenger(org).deliver(org.ids["cora"], address, message)
    assert again.external_ref["ts"] == org.standin.dm(COACH)[0]["ts"]
    assert len(org.standin.of("chat.update")) == 1
    assert len(org.standin.of("chat.postMessage")) == 1
    assert len(org.standin.shared) == 1 and len(org.standin.of("files.getUploadURLExternal")) == 1


async def test_a_post_whose_outcome_was_lost_gets_its_chart_once(org: SlackOrg) -> None:
    # Slack posted the digest but answered 503: the retry finds it, updates it in place
    # and uploads the chart then (the first attempt never got that far).
    org.standin.fail("chat.postMessage", status=503, posted=True)
    await send_and_drain(org)
    assert [r.status for r in await digest_outbox(org)] == ["pending"]
    assert org.standin.shared == []
    for _ in range(5):
        org.clock.advance(timedelta(minutes=2))
        await org.app.sender.drain()
    assert [r.status for r in await digest_outbox(org)] == ["sent"]
    [digest] = org.standin.dm(COACH)
    assert len(org.standin.of("chat.postMessage")) == 1
    assert len(org.standin.of("conversations.history")) == 1
    [shared] = org.standin.shared
    assert shared["thread_ts"] == digest["ts"] and shared["data"].startswith(b"\x89PNG")


async def test_reopening_a_past_digest_posts_it_with_its_chart(org: SlackOrg) -> None:
    row = await send_and_drain(org)
    payload = block_action(
        COACH, "digest.open", str(row.id), response_url=org.standin.response_url(COACH)
    )
    response = await org.act(payload)
    assert response.status == 200
    first, reopened = org.standin.dm(COACH)
    assert [s["thread_ts"] for s in org.standin.shared] == [first["ts"], reopened["ts"]]


async def test_the_resolver_knows_digest_charts_only(org: SlackOrg) -> None:
    row = await send_and_drain(org)
    resolve = chart_images(org.app.services)
    found = await resolve(chart_attachment(row.id or 0))
    assert found is not None and found.data.startswith(b"\x89PNG")
    assert await resolve("digest-chart:999999") is None
    assert await resolve("something-else:1") is None
    assert attachment_digest("digest-chart:x") is None


async def test_a_chart_that_cannot_be_drawn_is_skipped_quietly(
    org: SlackOrg, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(key: str) -> Any:
        raise RuntimeError("no matplotlib today")

    messenger(org).images = broken
    with caplog.at_level(logging.WARNING, logger="bot.slack.sender"):
        await send_and_drain(org)
    assert [r.status for r in await digest_outbox(org)] == ["sent"]
    assert file_calls(org) == [] and len(org.standin.dm(COACH)) == 1
    assert [r.getMessage() for r in caplog.records if r.name == "bot.slack.sender"] == [
        "slack: no image for digest:1"
    ]
