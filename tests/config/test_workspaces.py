"""Config as code and Slack installs: `apply` adopts the workspace an OAuth install
created (key ``slack-<team id>``) instead of refusing it, and still refuses a team id
that a config file already named."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from handlers.config.apply import ConfigError, apply_text, export_config
from storage.channels import slack as slack_store
from storage.core.db import Database
from storage.core.models import AuditEntry, Membership, Person, Team, Workspace
from tests.support.config import apply, snapshot

TEAM_ID = "T0123ABC"

# Line numbers matter: the error tests below name them.
ORG = f"""\
workspaces:
  - key: acme
    name: Acme Corp
    channel: slack
    external_id: {TEAM_ID}
    timezone: Europe/Berlin
people:
  - handle: ana
    workspace: acme
    name: Ana Silva
teams:
  - key: leadership
    workspace: acme
    name: Leadership team
    members:
      executive: [ana, zoe]
"""


async def installed(db: Database) -> dict[str, int]:
    """What an OAuth install and the roster leave behind: the workspace under its
    automatic key, and people in it with their Slack addresses."""
    ids: dict[str, int] = {}
    async with db.session() as session:
        workspace = await slack_store.ensure_workspace(session, TEAM_ID, "Acme", "UTC")
        ids["workspace"] = workspace.id or 0
        for handle, user in (("ana", "UANA"), ("zoe", "UZOE")):
            person = Person(workspace_id=ids["workspace"], handle=handle, name=handle.title())
            session.add(person)
            await session.flush()
            ids[handle] = person.id or 0
            address = {"user_id": user, "team_id": TEAM_ID}
            await slack_store.set_address(session, ids[handle], address, None)
    return ids


async def test_an_installed_workspace_is_adopted_with_its_people(any_db: Database) -> None:
    ids = await installed(any_db)
    assert slack_store.automatic_key(TEAM_ID) == "slack-t0123abc"

    changes = await apply(any_db, ORG)

    assert changes[:2] == [
        f"adopt workspace slack-t0123abc (slack workspace '{TEAM_ID}') as acme",
        "update workspace acme: name, timezone",
    ]
    assert "update person ana (acme): name" in changes
    assert not any(line.startswith(("create workspace", "create person")) for line in changes)
    async with any_db.session() as session:
        (workspace,) = (await session.exec(select(Workspace))).all()
        assert (workspace.id, workspace.key, workspace.external_id) == (
            ids["workspace"],
            "acme",
            TEAM_ID,
        )
        assert (workspace.name, workspace.timezone) == ("Acme Corp", "Europe/Berlin")
        people = (await session.exec(select(Person).order_by(col(Person.id)))).all()
        assert [(p.id, p.handle, p.workspace_id) for p in people] == [
            (ids["ana"], "ana", ids["workspace"]),
            (ids["zoe"], "zoe", ids["workspace"]),
        ]
        # Slack still finds the workspace and its people by team and user id.
        found = await slack_store.workspace_for_team(session, TEAM_ID)
        assert found is not None and found.id == ids["workspace"]
        assert await slack_store.person_for_user(session, TEAM_ID, "UZOE") == (
            ids["zoe"],
            ids["workspace"],
        )
        team = (await session.exec(select(Team))).one()
        members = (await session.exec(select(Membership.person_id))).all()
        assert team.workspace_id == ids["workspace"]
        assert sorted(members) == sorted([ids["ana"], ids["zoe"]])
        entry = (
            await session.exec(
                select(AuditEntry).where(AuditEntry.action == "config.adopt_workspace")
            )
        ).one()
    assert (entry.actor, entry.target) == ("config:org.yaml", "workspace:acme")
    assert entry.detail == {
        "key": ["slack-t0123abc", "acme"],
        "channel": "slack",
        "external_id": TEAM_ID,
    }

    assert await apply(any_db, ORG) == []  # idempotent: adopted once
    exported = await export_config(any_db)
    assert "- key: acme\n" in exported and "slack-" not in exported


async def test_dry_run_reports_the_adoption_and_stores_nothing(db: Database) -> None:
    await installed(db)
    before = await snapshot(db)

    dry = await apply_text(db, ORG, filename="org.yaml", dry_run=True)

    assert dry.dry_run
    assert dry.changes[0] == f"adopt workspace slack-t0123abc (slack workspace '{TEAM_ID}') as acme"
    assert await snapshot(db) == before
    assert await apply(db, ORG) == dry.changes


async def test_a_team_id_named_by_a_config_file_still_conflicts(db: Database) -> None:
    await installed(db)
    await apply(db, ORG)  # adopted: from now on a config file has named it
    before = await snapshot(db)

    with pytest.raises(ConfigError) as caught:
        await apply(db, ORG.replace("key: acme", "key: acme-eu").replace("acme\n", "acme-eu\n"))

    assert str(caught.value) == (
        f"org.yaml:5: workspaces[0].external_id: slack workspace '{TEAM_ID}' is already "
        "'acme': use that key"
    )
    assert await snapshot(db) == before


async def test_an_installed_workspace_is_not_adopted_under_a_key_in_use(db: Database) -> None:
    workspaces_only = ORG.split("people:")[0]
    await apply(db, workspaces_only.replace(TEAM_ID, "T0999"))  # acme: another Slack team
    await installed(db)
    before = await snapshot(db)

    with pytest.raises(ConfigError) as caught:
        await apply(db, ORG)

    assert str(caught.value) == (
        f"org.yaml:5: workspaces[0].external_id: slack workspace '{TEAM_ID}' is already "
        "'slack-t0123abc', which cannot become 'acme': that key is slack workspace 'T0999'"
    )
    assert await snapshot(db) == before
