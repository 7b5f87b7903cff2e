"""What differs between our two databases at the statement level: INSERT … ON CONFLICT
is built by each dialect's own `insert`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def insert_for(dialect: str) -> Any:
    """The `insert` whose statements take `on_conflict_do_*` for this dialect name."""
    return pg_insert if dialect == "postgresql" else sqlite_insert
