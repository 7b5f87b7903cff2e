"""A Teams tenant in the organisation file: people named by Azure AD object id (or
matched by email), applied and exported without touching the conversation references
the channel stores beside them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from handlers.config.apply import ConfigError, export_config
from storage.core.db import Database
from storage.core.models import ChatAddress
from tests.support.config import apply

FILE = """\
workspaces:
  - {key: contoso, name: Contoso, channel: teams, external_id: tenant-0001, timezone: UTC}
people:
  - handle: ana
    workspace: contoso
    name: Ana
    email: ana@contoso.test
    chat: {teams: {aad_object_id: aad-ana}}
  - {handle: ben, workspace: contoso, name: Ben, email: ben@contoso.test}
teams:
  - {key: leadership, workspace: contoso, name: Leadership, members: {executive: [ana, ben]}}
"""
REFERENCE = {"serviceUrl": "https://smba.example/", "conversation": {"id": "a:ana"}}


async def test_teams_people_round_trip_and_keep_their_conversation(db: Database) -> None:
    await apply(db, FILE)
    async with db.session() as session:
        [address] = (await session.exec(select(ChatAddress))).all()
        assert address.address == {"aad_object_id": "aad-ana"}
        address.address = address.address | {"reference": REFERENCE}  # the app installed
        session.add(address)
    assert await apply(db, FILE) == []  # nothing to change, the reference kept
    exported = await export_config(db)
    assert "teams:\n        aad_object_id: aad-ana" in exported
    assert "serviceUrl" not in exported and "reference" not in exported
    assert await apply(db, exported) == []
    async with db.session() as session:
        [address] = (await session.exec(select(ChatAddress))).all()
    assert address.address["reference"] == REFERENCE

    moved = FILE.replace("aad-ana", "aad-ana-new")  # another user: the old chat is not hers
    assert await apply(db, moved) != []
    async with db.session() as session:
        [address] = (await session.exec(select(ChatAddress))).all()
    assert address.address == {"aad_object_id": "aad-ana-new"}


@pytest.mark.parametrize(
    ("chat", "says"),
    [
        ("{teams: {}}", "needs aad_object_id"),
        ("{teams: {aad_object_id: ''}}", "needs aad_object_id"),
        ("{teams: {aad_object_id: x, serviceUrl: y}}", "aad_object_id only"),
    ],
)
async def test_a_teams_address_names_the_user(db: Database, chat: str, says: str) -> None:
    broken = FILE.replace("{teams: {aad_object_id: aad-ana}}", chat)
    with pytest.raises(ConfigError, match=says):
        await apply(db, broken)


async def test_a_teams_workspace_needs_its_tenant(db: Database) -> None:
    with pytest.raises(ConfigError, match="Teams tenant id"):
        await apply(db, FILE.replace(", external_id: tenant-0001", ""))


DOC = (Path(__file__).resolve().parents[2] / "docs" / "teams.md").read_text(encoding="utf-8")


async def test_the_minimal_file_in_the_teams_docs_applies(db: Database) -> None:
    doc = DOC
    block = doc.split("## A minimal organisation file", 1)[1].split("```yaml\n", 1)[1]
    changes = await apply(db, block.split("```", 1)[0])
    assert "create workspace contoso" in changes
