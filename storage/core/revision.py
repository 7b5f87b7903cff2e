"""Developer tool: write a new Alembic revision from the difference between the
models and a scratch SQLite database upgraded to head."""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from storage.core.db import alembic_config, upgrade_to


def autogenerate(message: str) -> None:
    existing = sorted((Path(__file__).parent.parent / "migrations" / "versions").glob("[0-9]*.py"))
    rev_id = f"{len(existing) + 1:04d}"
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        with engine.begin() as connection:
            upgrade_to(connection, "head")
            config = alembic_config()
            config.attributes["connection"] = connection
            command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
        engine.dispose()
