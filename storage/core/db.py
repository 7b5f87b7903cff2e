"""The async engine, sessions, and schema upgrades through Alembic."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import MetaData, create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel.ext.asyncio.session import AsyncSession

import storage.tables  # noqa: F401  (registers every table on the metadata)

if TYPE_CHECKING:  # alembic (with mako and pygments) is imported only to migrate
    from alembic.config import Config

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).parent.parent / "migrations"

T = TypeVar("T")


def async_url(url: str) -> str:
    """Map a plain database URL to its async driver (aiosqlite or asyncpg)."""
    parsed = make_url(url)
    driver = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}.get(
        parsed.drivername, parsed.drivername
    )
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


class Database:
    """One engine per process; sessions are short and per unit of work."""

    def __init__(self, url: str) -> None:
        self.url = async_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        kwargs: dict[str, Any] = {}
        if self.dialect == "sqlite":
            database = make_url(self.url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
            # Names each server's sessions, so operators (and tests) can see who holds what.
            kwargs["connect_args"] = {
                "server_settings": {"application_name": f"pulsecoach:{os.getpid()}"}
            }
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        self._direct: Engine | None = None
        self._direct_thread: ThreadPoolExecutor | None = None
        database = make_url(self.url).database
        if self.dialect == "sqlite" and database and database != ":memory:":
            self._direct = create_engine(
                make_url(self.url).set(drivername="sqlite"), connect_args={"timeout": 30}
            )
            event.listen(self._direct, "connect", _sqlite_direct)
            event.listen(self._direct, "begin", _begin_immediate)
            self._direct_thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-transact")

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed when the block ends, rolled back on any error."""
        async with self._sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def transact(self, work: Callable[[Connection], T]) -> T:
        """A unit of work written as one synchronous function of Core statements,
        committed when it returns, rolled back if it raises. For the hottest
        transaction (the answer desk's group commit).

        aiosqlite hands every cursor call to its thread and back (~0.1 ms each, four or
        five per statement: ~0.5 ms of CPU for a one-row SELECT), so on SQLite `work`
        runs whole on a thread of its own over plain sqlite3, one hand-off per
        transaction, which also begins IMMEDIATE: what it reads stays true until it
        commits. On PostgreSQL it runs on the async engine, where a statement is one
        round trip to the server and no thread is involved."""
        if self._direct is None or self._direct_thread is None:
            async with self.engine.begin() as connection:
                return await connection.run_sync(work)
        direct = self._direct

        def run() -> T:
            with direct.begin() as connection:
                return work(connection)

        return await asyncio.get_running_loop().run_in_executor(self._direct_thread, run)

    async def scrub(self, rewritten: Sequence[str], vacuumed: Sequence[str] = ()) -> None:
        """Make rows deleted or replaced by a committed transaction unreadable from the
        database's files, not only from its tables.

        PostgreSQL keeps dead row versions in a table's pages until a vacuum, and a
        plain VACUUM leaves their bytes in the page's free space: `rewritten` tables get
        VACUUM FULL (a new file, the old one unlinked; brief exclusive lock, so only
        small tables), `vacuumed` ones a plain VACUUM (dead versions and their
        transaction ids gone from every row header). VACUUM cannot run in a
        transaction: an autocommit connection. SQLite overwrites deleted content with
        zeros (secure_delete, set on every connection); VACUUM rebuilds the file and a
        truncating checkpoint empties the -wal file, where old page images stay until
        then."""
        if self.dialect == "postgresql":
            async with self.engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await _wait_for_older_snapshots(autocommit)
                for table in rewritten:
                    await autocommit.exec_driver_sql(f'VACUUM FULL "{table}"')
                if vacuumed:
                    names = ", ".join(f'"{t}"' for t in vacuumed)
                    await autocommit.exec_driver_sql(f"VACUUM {names}")
            return
        if self._direct is None or self._direct_thread is None:
            return  # an in-memory database: no file to scrub
        direct = self._direct

        def run() -> None:
            raw = direct.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute("VACUUM")
                busy = 1
                for _ in range(50):  # readers still on old frames: wait for them
                    busy = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                    if not busy:
                        break
                    time.sleep(0.1)
                cursor.close()
                if busy:
                    raise RuntimeError("the WAL could not be checkpointed: a reader held it")
            finally:
                raw.close()

        await asyncio.get_running_loop().run_in_executor(self._direct_thread, run)

    async def upgrade(self, revision: str = "head") -> None:
        async with self.engine.begin() as connection:
            await connection.run_sync(upgrade_to, revision)

    async def ensure_current(self) -> None:
        """Upgrade to head unless the schema is there already: one query when it is,
        without importing Alembic (a CLI command's start)."""
        head = head_revision()
        try:
            async with self.engine.connect() as connection:
                stored = (await connection.execute(_STORED_REVISIONS)).scalars().all()
        except DBAPIError:  # no alembic_version table yet: an empty database
            stored = []
        if head is None or list(stored) != [head]:
            await self.upgrade()

    async def downgrade(self, revision: str) -> None:
        async with self.engine.begin() as connection:
            await connection.run_sync(_downgrade, revision)

    async def erase(self) -> None:
        """Delete every row of every table, the schema and its revision kept (children
        before parents): `pulsecoach demo --reset`."""
        async with self.engine.begin() as connection:
            await connection.run_sync(_erase)

    async def current_revision(self) -> str | None:
        async with self.engine.connect() as connection:
            return await connection.run_sync(_current)

    async def checkpoint(self) -> None:
        """SQLite: copy the -wal file into the database and empty it (a clean stop
        leaves one file to back up); the file goes when the last connection closes."""
        if self.dialect != "sqlite":
            return
        async with self.engine.connect() as connection:
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._direct is not None and self._direct_thread is not None:
            await asyncio.get_running_loop().run_in_executor(
                self._direct_thread, self._direct.dispose
            )


SNAPSHOT_WAIT_SECONDS = 30.0
# Sessions of this database holding a snapshot from before now (a transaction, an
# autovacuum ANALYZE), or a transaction id in any database of the server (a writer
# elsewhere, e.g. CREATE DATABASE, holds the horizon back too): a row deleted since
# may still count as visible, so VACUUM would keep it.
_OLDER_SNAPSHOTS = text(
    "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND (("
    "datname = current_database() AND "
    "age(backend_xmin) > age(CAST(CAST(:horizon AS text) AS xid))) OR "
    "age(backend_xid) > age(CAST(CAST(:horizon AS text) AS xid)))"
)


async def _wait_for_older_snapshots(connection: AsyncConnection) -> None:
    """Wait (a while) until no other session can still see what was just deleted."""
    horizon = (
        await connection.execute(  # as a 32-bit xid, which backend_xmin is
            text(
                "SELECT (pg_snapshot_xmax(pg_current_snapshot())::text::bigint % 4294967296)::text"
            )
        )
    ).scalar_one()
    deadline = time.monotonic() + SNAPSHOT_WAIT_SECONDS
    while (await connection.execute(_OLDER_SNAPSHOTS, {"horizon": horizon})).scalar_one():
        if time.monotonic() > deadline:
            log.warning(
                "scrub: a session has held a snapshot for %.0f s; VACUUM keeps the rows it "
                "can still see until a later scrub",
                SNAPSHOT_WAIT_SECONDS,
            )
            return
        await asyncio.sleep(0.05)


_STORED_REVISIONS = text("SELECT version_num FROM alembic_version")
_REVISION = re.compile(r"^revision(?:: str)? = [\"'](\w+)[\"']$", re.M)
_DOWN_REVISION = re.compile(r"^down_revision(?:: [\w |]+)? = [\"'](\w+)[\"']$", re.M)


@cache
def head_revision() -> str | None:
    """The one revision no migration revises, read from the migration files' text
    (what Alembic's script directory would say, without loading it); None when that
    is not one clear answer, so the caller asks Alembic."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found = _REVISION.findall(source)
        if len(found) != 1:
            return None
        revisions.add(found[0])
        revised.update(_DOWN_REVISION.findall(source))
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


def upgrade_to(connection: Connection, revision: str) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _downgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


def _erase(connection: Connection) -> None:
    tables = MetaData()
    tables.reflect(connection)
    for table in reversed(tables.sorted_tables):
        if table.name != "alembic_version":
            connection.execute(table.delete())


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _sqlite_direct(dbapi_connection: Any, record: Any) -> None:
    """The transact() connection: our pragmas, and transactions begun by us (below)
    rather than by the sqlite3 module, which would begin only at the first write."""
    _sqlite_pragmas(dbapi_connection, record)
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL survives a crash of the process (the case that matters for the
    # outbox) and skips an fsync per commit; only an OS crash could lose the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Deleted content is overwritten with zeros, in the file and its WAL: a closed
    # round's open answers and key leave no bytes in free pages (see Database.scrub).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
