"""Exactly one scheduler per database: a PostgreSQL session advisory lock.

The lock lives on one dedicated connection. When the holding process dies, its
connection closes, PostgreSQL releases the lock, and the next probe of another
process takes over. SQLite is single-node: the one process is always the leader.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.core.db import Database

log = logging.getLogger(__name__)
LOCK_KEY = 0x70756C73  # "puls"


class LeaderLock:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._connection: AsyncConnection | None = None

    @property
    def held(self) -> bool:
        return self.db.dialect == "sqlite" or self._connection is not None

    async def probe(self) -> bool:
        """Take the lock if free; confirm it is still ours if held. True: we lead."""
        if self.db.dialect == "sqlite":
            return True
        if self._connection is not None:
            try:
                await self._connection.execute(text("SELECT 1"))
                await self._connection.commit()
                return True
            except Exception:
                log.warning("lost the scheduler lock's connection; stepping down")
                await self._drop()
                return False
        connection = await self.db.engine.connect()
        try:
            got = (
                await connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
                )
            ).scalar()
            await connection.commit()
        except Exception:
            await connection.close()
            raise
        if got:
            self._connection = connection
            log.info("this process now runs the scheduler")
            return True
        await connection.close()
        return False

    async def release(self) -> None:
        if self._connection is not None:
            try:
                await self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY}
                )
                await self._connection.commit()
            finally:
                await self._drop()

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.invalidate()
            except Exception:  # already broken: nothing left to release
                pass
