"""Shared fixtures: loopback guard, SQLite and PostgreSQL databases, fake clock, LLM stand-in."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.core.db import Database, async_url
from tests.support.clock import FakeClock
from tests.support.llm_standin import LLMStandIn, llm_standin

POSTGRES_URL = os.environ.get(
    "PULSECOACH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def _is_loopback(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach the internet: any connection outside loopback fails the test."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded(method: Any) -> Any:
        def connect(self: socket.socket, address: Any) -> Any:
            if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
                raise AssertionError(f"test tried to connect outside loopback: {address!r}")
            return method(self, address)

        return connect

    monkeypatch.setattr(socket.socket, "connect", guarded(real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded(real_connect_ex))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh SQLite database at the current schema."""
    database = Database(f"sqlite:///{tmp_path / 'test.db'}")
    await database.upgrade()
    yield database
    await database.dispose()


_private_url: str | None = None


async def _private_database() -> str:
    """A database of this test run's own (created in `test`), so parallel runs sharing
    one PostgreSQL never drop each other's tables. Under CI an unreachable PostgreSQL
    fails the test, never skips it."""
    global _private_url
    if _private_url is None:
        name = f"pulsecoach_test_{os.getpid()}"
        engine = create_async_engine(async_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
        except (OSError, Exception) as exc:
            if os.environ.get("CI") == "true":
                pytest.fail(f"PostgreSQL at {POSTGRES_URL} is unreachable under CI: {exc}")
            pytest.skip(f"PostgreSQL not reachable: {exc}")
        finally:
            await engine.dispose()
        _private_url = str(
            make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        )
    return _private_url


@pytest.fixture(scope="session", autouse=True)
def drop_private_database() -> Iterator[None]:
    yield
    if _private_url is not None:
        name = make_url(_private_url).database

        async def drop() -> None:
            engine = create_async_engine(async_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
            async with engine.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await engine.dispose()

        asyncio.run(drop())


async def reset_postgres() -> str:
    """An empty private PostgreSQL database; returns its URL."""
    url = await _private_database()
    engine = create_async_engine(async_url(url))
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
    return url


@pytest.fixture
async def pg_db() -> AsyncIterator[Database]:
    """A fresh PostgreSQL database at the current schema."""
    database = Database(await reset_postgres())
    await database.upgrade()
    yield database
    await database.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'test.db'}")
    else:
        database = Database(await reset_postgres())
    await database.upgrade()
    yield database
    await database.dispose()


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings from defaults only: no channel or LLM variables from the machine."""
    for name in list(os.environ):
        if name.startswith(("PULSECOACH_", "SLACK_", "MICROSOFT_", "OPENAI_")):
            monkeypatch.delenv(name)
    yield


@pytest.fixture
async def llm() -> AsyncIterator[LLMStandIn]:
    """The local OpenAI-compatible stand-in (tests/llm_standin.py), for digest summaries."""
    async with llm_standin() as standin:
        yield standin
