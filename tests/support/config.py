"""Config-as-code test helpers: the BASE organisation file; edit, apply and snapshot."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from handlers.config.apply import apply_text
from storage.core.db import Database
from storage.core.models import AuditEntry, ChatAddress, Membership, Person, Team, Workspace

TABLES = (Workspace, Person, Team, Membership, ChatAddress, AuditEntry)

# Line numbers matter: the error tests in test_config_errors.py name them.
BASE = """\
workspaces:
  - key: acme
    name: Acme Corp
    channel: slack
    external_id: T0123
    timezone: Europe/Berlin
    holidays: [2026-12-25, 2026-12-24]
  - key: local
    name: Local demo
    channel: local
    timezone: Europe/Berlin
people:
  - handle: ana
    workspace: acme
    name: Ana Silva
    email: ana@acme.example
    timezone: Europe/Lisbon
    working_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "18:00"}
    chat: {slack: {user_id: U01ABC}}
  - handle: ben
    workspace: acme
    name: Ben Okoro
    timezone: America/New_York
    working_hours:
      days: [mon, tue, wed]
      start: "08:00"
      end: "16:00"
  - handle: cora
    workspace: acme
    name: Cora Lind
    leave: {from: 2026-12-20, until: 2027-01-03}
  - handle: adam
    workspace: acme
    name: Adam Admin
    snoozed_until: 2026-12-01T09:00:00+01:00
  - handle: lou
    workspace: local
    name: Lou Local
    locale: no
teams:
  - key: leadership
    workspace: acme
    name: Leadership team
    timezone: Europe/Berlin
    members:
      executive:
        - ana
        - ben
      coach: [cora]
      admin: [adam]
      sponsor: []
"""


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


async def snapshot(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table the config touches, for before/after comparisons."""
    out: dict[str, list[dict[str, Any]]] = {}
    async with db.session() as session:
        for table in TABLES:
            rows = (await session.exec(select(table).order_by(col(table.id)))).all()
            out[table.__name__] = [row.model_dump() for row in rows]
    return out


async def apply(db: Database, text: str, **kwargs: Any) -> list[str]:
    return (await apply_text(db, text, filename="org.yaml", **kwargs)).changes
