"""An operator's view, through the real aiohttp app: /metrics figures move (requests by
route and status, deliveries, backlog, leader, dispatch), event log lines parse as
JSON with their fields, and /healthz answers 503 while the database is away."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import make_url

from bot.app import PULSECOACH_KEY, Pulsecoach, build_web_app
from bot.logs import configure
from bot.settings import Settings
from handlers.pulse.close import close_team_round
from handlers.pulse.rounds import open_round
from storage.core.models import ChatAddress, Membership, Person, Team, Workspace
from storage.pulse.models import PulseProgram
from tests.conftest import reset_postgres
from tests.support.clock import FakeClock
from tests.support.tcp_proxy import Proxy

EXECUTIVES = 3


async def seed(app: Pulsecoach) -> None:
    """A local workspace; a team of executives who may be messaged any time."""
    async with app.db.session() as session:
        workspace = Workspace(key="local", name="Local", channel="local", external_id="local")
        session.add(workspace)
        await session.flush()
        team = Team(workspace_id=workspace.id or 0, key="north", name="North")
        session.add(team)
        await session.flush()
        for n in range(EXECUTIVES):
            person = Person(
                workspace_id=workspace.id or 0,
                handle=f"p{n}",
                name=f"P{n}",
                timezone="UTC",
                work_days=[0, 1, 2, 3, 4, 5, 6],
                work_start="00:00",
                work_end="23:59",
                quiet_hours=None,
            )
            session.add(person)
            await session.flush()
            pid = person.id or 0
            session.add(Membership(team_id=team.id or 0, person_id=pid, role="executive"))
            session.add(ChatAddress(person_id=pid, channel="local", address={"inbox": f"p{n}"}))
        session.add(PulseProgram(team_id=team.id or 0, key="s", instrument="team_safety"))


def app_settings(url: str, **extra: Any) -> Settings:
    # The outbox job waits a minute: this test drains by hand, after reading the backlog.
    return Settings(
        PULSECOACH_DATABASE_URL=url,
        PULSECOACH_SEND_SECONDS=60,
        PULSECOACH_LEADER_PROBE_SECONDS=1,
        **extra,
    )


@pytest.fixture
async def client(
    tmp_path: Path, no_env: None, clock: FakeClock
) -> AsyncIterator[TestClient[Any, Any]]:
    app = Pulsecoach.build(app_settings(f"sqlite:///{tmp_path / 'ops.db'}"), clock=clock)
    async with TestClient(TestServer(build_web_app(app))) as test_client:
        await seed(app)
        yield test_client


def the_app(client: TestClient[Any, Any]) -> Pulsecoach:
    assert isinstance(client.server, TestServer)
    return client.server.app[PULSECOACH_KEY]


async def scrape(client: TestClient[Any, Any]) -> dict[str, float]:
    response = await client.get("/metrics")
    assert response.status == 200
    found: dict[str, float] = {}
    for line in (await response.text()).splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


def moved(before: dict[str, float], after: dict[str, float], sample: str) -> float:
    return after.get(sample, 0.0) - before.get(sample, 0.0)


REQUESTS = 'pulsecoach_http_requests_total{{method="{}",route="{}",status="{}"}}'
SENT = 'pulsecoach_outbox_messages_total{channel="local",outcome="sent"}'


async def test_metrics_count_requests_by_route_deliveries_and_the_backlog(
    client: TestClient[Any, Any],
) -> None:
    app = the_app(client)
    before = await scrape(client)
    assert (await client.get("/healthz")).status == 200
    unknown = await client.post("/api/local/people/nobody-1/messages", json={"text": "help"})
    assert unknown.status == 404
    assert (await client.get("/no/such/page/42")).status == 404
    await open_round(app.services, "north")
    after = await scrape(client)

    assert moved(before, after, REQUESTS.format("GET", "/healthz", "200")) == 1
    # The route's pattern, not the handle asked for; unknown paths share one series.
    pattern = "/api/local/people/{handle}/messages"
    assert moved(before, after, REQUESTS.format("POST", pattern, "404")) == 1
    assert moved(before, after, REQUESTS.format("GET", "unmatched", "404")) == 1
    assert not any("nobody-1" in name or "/no/such" in name for name in after)

    # Read at scrape time: the round's invites are due and waiting.
    assert after['pulsecoach_outbox_due{channel="local"}'] == EXECUTIVES
    assert after["pulsecoach_outbox_oldest_due_seconds"] >= 0
    assert after["pulsecoach_schedule_due"] >= 0
    assert after["pulsecoach_leader"] == 1  # SQLite: the one process leads
    assert after["pulsecoach_last_dispatch_timestamp_seconds"] > 0  # ran at start
    for figure in ("process_resident_memory_bytes", "process_cpu_seconds_total"):
        assert after[figure] > 0
    assert any(name.startswith("python_info{") for name in after)

    result = await app.sender.drain()
    assert result.sent == EXECUTIVES
    drained = await scrape(client)
    assert moved(after, drained, SENT) == EXECUTIVES
    assert drained['pulsecoach_outbox_due{channel="local"}'] == 0
    assert drained["pulsecoach_outbox_oldest_due_seconds"] == 0


@contextmanager
def logs_to(form: str) -> Iterator[io.StringIO]:
    """Log lines in `form` to a buffer for a while; the root logger as it was after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    buffer = io.StringIO()
    configure("INFO", form, buffer)
    try:
        yield buffer
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


def events(text: str) -> dict[str, list[dict[str, Any]]]:
    """Every stderr line parsed as JSON (each must be), by event."""
    found: dict[str, list[dict[str, Any]]] = {}
    for line in text.splitlines():
        record = json.loads(line)
        assert {"time", "level", "logger", "message"} <= set(record)
        found.setdefault(record.get("event", ""), []).append(record)
    return found


async def test_json_log_lines_for_a_round_and_its_fan_out(client: TestClient[Any, Any]) -> None:
    app = the_app(client)
    with logs_to("json") as buffer:
        opened = await open_round(app.services, "north")
        await app.sender.drain()
        await close_team_round(app.services, "north")
    found = events(buffer.getvalue())

    [line] = found["round.opened"]
    assert (line["round"], line["team"], line["invited"]) == (opened.round_id, "north", 3)
    assert line["level"] == "INFO" and "opened" in line["message"]
    [started] = found["fanout.started"]
    assert started["lanes"] == 1
    [finished] = found["fanout.finished"]
    assert (finished["sent"], finished["failed"]) == (EXECUTIVES, 0)
    assert finished["seconds"] >= 0
    [closed] = found["round.closed"]
    assert (closed["round"], closed["invited"], closed["answered"]) == (opened.round_id, 3, 0)


def test_text_log_lines_carry_the_event_fields() -> None:
    with logs_to("text") as buffer:
        logging.getLogger("x").info("hello", extra={"event": "e.x", "count": 2})
    line = buffer.getvalue().strip()
    assert line.endswith("INFO x: hello event=e.x count=2")


async def test_healthz_answers_503_while_the_database_is_away(no_env: None) -> None:
    url = make_url(await reset_postgres())
    proxy = await Proxy(url.host or "127.0.0.1", url.port or 5432).start()
    via = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = Pulsecoach.build(app_settings(via))
    try:
        async with TestClient(TestServer(build_web_app(app))) as client:
            healthy = await client.get("/healthz")
            assert healthy.status == 200
            assert (await healthy.json())["leader"] in ("this process", "another process")

            await proxy.cut()
            away = await client.get("/healthz")
            assert away.status == 503
            body = await away.json()
            assert body["status"] == "unavailable"
            assert body["reason"].startswith("database unreachable")
            assert via not in json.dumps(body)  # no URL (nor password) in the answer
            # /metrics still answers with the process figures.
            assert "process_resident_memory_bytes" in await (await client.get("/metrics")).text()

            await proxy.start()  # the database is back: so is the health
            back = await client.get("/healthz")
            assert back.status == 200, await back.text()
    finally:
        await proxy.cut()


async def test_healthz_reports_a_missing_leader(no_env: None) -> None:
    """A process that is not the leader, with no other holding the lock: degraded."""
    url = await reset_postgres()
    app = Pulsecoach.build(app_settings(url))
    async with TestClient(TestServer(build_web_app(app, run_scheduler=False))) as client:
        response = await client.get("/healthz")
        assert response.status == 200
        body = await response.json()
        assert (body["status"], body["leader"]) == ("degraded", None)
        assert "scheduler lock" in body["reason"]
        assert await app.lock.probe()  # now this process leads
        body = await (await client.get("/healthz")).json()
        assert (body["status"], body["leader"]) == ("ok", "this process")
