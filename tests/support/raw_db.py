"""Reading a database as an attacker with its files or superuser SQL would: SQLite's
main file and -wal bytes; PostgreSQL's pages through pageinspect (live and dead
tuples, their transaction ids, physical order, and the raw bytes of every page)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import make_url, text

from storage.core.db import Database


def sqlite_files(db: Database) -> dict[str, bytes]:
    """The SQLite database's main file and its -wal file, as bytes."""
    path = Path(make_url(db.url).database or "")
    wal = path.with_name(path.name + "-wal")
    return {"main": path.read_bytes(), "wal": wal.read_bytes() if wal.exists() else b""}


@dataclass(frozen=True)
class Tuple:
    table: str
    block: int
    lp: int
    live: bool  # lp_flags 1 (normal) and not deleted (xmax 0)
    xmin: int | None
    xmax: int | None
    data: bytes


async def pg_tuples(db: Database, table: str) -> list[Tuple]:
    """Every line pointer of every page of `table`, in physical order, with what it
    holds (dead versions included until a vacuum removes them)."""
    async with db.engine.connect() as connection:
        await connection.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        await connection.commit()
        blocks = (
            await connection.execute(text(f"SELECT pg_relation_size('{table}') / 8192"))
        ).scalar_one()
        found: list[Tuple] = []
        for block in range(int(blocks)):
            rows = await connection.execute(
                text(
                    "SELECT lp, lp_flags, t_xmin, t_xmax, t_data "
                    "FROM heap_page_items(get_raw_page(:t, :b)) ORDER BY lp"
                ),
                {"t": table, "b": block},
            )
            for lp, flags, xmin, xmax, data in rows:
                live = flags == 1 and (xmax or 0) == 0
                found.append(
                    Tuple(table, block, lp, live, xmin, xmax, bytes(data) if data else b"")
                )
    return found


async def pg_pages(db: Database) -> dict[str, bytes]:
    """Every page of every table, index and TOAST relation of the database, by name."""
    async with db.engine.connect() as connection:
        await connection.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        await connection.commit()
        relations = (
            await connection.execute(
                text(
                    "SELECT c.oid::regclass::text FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE (n.nspname = 'public' AND c.relkind IN ('r', 'i')) OR c.oid IN "
                    "(SELECT reltoastrelid FROM pg_class "
                    "WHERE relnamespace = 'public'::regnamespace)"
                )
            )
        ).scalars()
        pages: dict[str, bytes] = {}
        for name in list(relations):
            size = (
                await connection.execute(
                    text("SELECT pg_relation_size(CAST(:r AS regclass))"), {"r": name}
                )
            ).scalar_one()
            chunks = []
            for block in range(int(size) // 8192):
                raw = (
                    await connection.execute(
                        text("SELECT get_raw_page(:r, :b)"), {"r": name, "b": block}
                    )
                ).scalar_one()
                chunks.append(bytes(raw))
            pages[name] = b"".join(chunks)
    return pages
