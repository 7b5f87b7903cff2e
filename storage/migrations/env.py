"""Alembic environment: runs on the connection pulsecoach hands it (see storage.core.db)."""

from alembic import context
from sqlmodel import SQLModel

import storage.tables  # noqa: F401

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `pulsecoach db upgrade`")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
