"""Config as code: `apply` the demo and a YAML organisation file, dry runs, updates, audit."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.demo.load import ORGANISATION
from handlers.config.apply import apply_file
from storage.core import directory
from storage.core.db import Database
from storage.core.models import AuditEntry, ChatAddress, Membership, Person, Team, Workspace
from tests.support.config import BASE, apply, edit, snapshot


async def members(session: AsyncSession, team_id: int, role: str) -> list[str]:
    """Member handles in one role (not `directory.members`: its DISTINCT over JSON columns
    fails on PostgreSQL)."""
    query = (
        select(Person.handle)
        .join(Membership, col(Membership.person_id) == Person.id)
        .where(Membership.team_id == team_id, Membership.role == role)
        .order_by(col(Person.handle))
    )
    return list((await session.exec(query)).all())


# --------------------------------------------------------------------------- the demo


async def test_demo_organisation_applies(any_db: Database) -> None:
    report = await apply_file(any_db, ORGANISATION)

    assert not report.dry_run
    assert report.changes[0] == "create workspace demo"
    assert "create person maya (demo)" in report.changes
    assert "add coach elena to leadership (demo)" in report.changes
    async with any_db.session() as session:
        workspace, teams_tenant = (await session.exec(select(Workspace))).all()
        assert (teams_tenant.key, teams_tenant.channel) == ("northwind-teams", "teams")
        assert (workspace.key, workspace.channel, workspace.external_id) == (
            "demo",
            "local",
            "demo",
        )
        assert workspace.timezone == "Europe/Berlin"
        assert "2026-12-25" in workspace.holidays
        people = (
            await session.exec(select(Person).where(Person.workspace_id == workspace.id))
        ).all()
        assert len(people) == 8
        zones = {p.handle: p.timezone for p in people}
        assert {zones[h] for h in ("maya", "oliver", "priya", "daniel", "weiling", "chloe")} == {
            "Europe/Berlin",
            "Europe/London",
            "America/New_York",
            "America/Los_Angeles",
            "Asia/Singapore",
            "Australia/Sydney",
        }
        team = await directory.team_by_key(session, "leadership")
        assert team is not None and team.id is not None
        assert len(await members(session, team.id, "executive")) == 6
        assert await members(session, team.id, "coach") == ["elena"]
        assert await members(session, team.id, "admin") == ["sam"]
        # everyone in the local workspace can be reached on the local web chat
        for person in people:
            assert person.id is not None
            address = await directory.active_address(session, person.id)
            assert address is not None
            assert (address.channel, address.address) == ("local", {"inbox": person.handle})
        maya = await directory.local_person(session, "maya")
        assert maya is not None and maya.name == "Maya Richter"
        entries = (await session.exec(select(AuditEntry))).all()
        assert len(entries) == len(report.changes)
        assert {entry.actor for entry in entries} == {"config:organisation.yaml"}


async def test_applying_twice_changes_nothing(any_db: Database) -> None:
    await apply_file(any_db, ORGANISATION)
    before = await snapshot(any_db)

    again = await apply_file(any_db, ORGANISATION)

    assert again.changes == []
    assert await snapshot(any_db) == before


async def test_dry_run_reports_the_same_changes_and_writes_nothing(any_db: Database) -> None:
    empty = await snapshot(any_db)

    dry = await apply_file(any_db, ORGANISATION, dry_run=True)

    assert dry.dry_run
    assert await snapshot(any_db) == empty
    real = await apply_file(any_db, ORGANISATION)
    assert dry.changes == real.changes
    # 2 workspaces, 8 + 3 people, 9 + 3 memberships, a team, program, sessions
    assert len(real.changes) == 28


async def test_dry_run_of_an_update_writes_nothing(db: Database) -> None:
    await apply(db, BASE)
    before = await snapshot(db)
    changed = edit(BASE, "name: Ana Silva", "name: Ana Sousa")

    dry = await apply(db, changed, dry_run=True)

    assert dry == ["update person ana (acme): name"]
    assert await snapshot(db) == before
    assert await apply(db, changed) == dry


# --------------------------------------------------------------------------- semantics


async def test_base_file_rows(any_db: Database) -> None:
    changes = await apply(any_db, BASE)

    assert changes[:2] == ["create workspace acme", "create workspace local"]
    async with any_db.session() as session:
        acme = (await session.exec(select(Workspace).where(Workspace.key == "acme"))).one()
        assert (acme.channel, acme.external_id) == ("slack", "T0123")
        assert acme.holidays == ["2026-12-24", "2026-12-25"]
        local = (await session.exec(select(Workspace).where(Workspace.key == "local"))).one()
        assert local.external_id == "local"
        people = {p.handle: p for p in (await session.exec(select(Person))).all()}
        assert people["ben"].work_days == [0, 1, 2]
        assert (people["ben"].work_start, people["ben"].work_end) == ("08:00", "16:00")
        assert people["ana"].work_days == [0, 1, 2, 3, 4]
        assert (people["cora"].leave_from, people["cora"].leave_until) == (
            date(2026, 12, 20),
            date(2027, 1, 3),
        )
        assert people["adam"].snoozed_until == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
        assert people["lou"].locale == "no"  # not the YAML 1.1 boolean
        assert people["ben"].timezone == "America/New_York"
        assert people["cora"].timezone is None and people["cora"].locale == "en"
        addresses = (await session.exec(select(ChatAddress))).all()
        by_person = {(a.person_id, a.channel): a.address for a in addresses}
        assert by_person == {
            (people["ana"].id, "slack"): {"user_id": "U01ABC"},
            (people["lou"].id, "local"): {"inbox": "lou"},
        }
        roles = (await session.exec(select(Membership.role, Person.handle).join(Person))).all()
        assert sorted(roles) == [
            ("admin", "adam"),
            ("coach", "cora"),
            ("executive", "ana"),
            ("executive", "ben"),
        ]


async def test_membership_is_made_to_match_the_file(any_db: Database) -> None:
    await apply(any_db, BASE)
    changed = edit(BASE, "        - ben\n", "")
    changed = edit(changed, "sponsor: []", "sponsor: [ana]")

    changes = await apply(any_db, changed)

    assert changes == [
        "remove executive ben from leadership (acme)",
        "add sponsor ana to leadership (acme)",
    ]
    async with any_db.session() as session:
        team = (await session.exec(select(Team))).one()
        assert team.id is not None
        assert await members(session, team.id, "executive") == ["ana"]
        assert await members(session, team.id, "sponsor") == ["ana"]
        # ben is no longer on the team, but people not in a team are left alone
        ben = (await session.exec(select(Person).where(Person.handle == "ben"))).one()
        assert ben.name == "Ben Okoro"
    assert await apply(any_db, changed) == []


async def test_things_not_in_the_file_are_left_alone(db: Database) -> None:
    await apply(db, BASE)
    before = await snapshot(db)
    only_ana = """\
people:
  - handle: ana
    workspace: acme
    name: Ana Silva
"""
    assert await apply(db, only_ana) == []
    assert await snapshot(db) == before


async def test_left_out_fields_keep_their_value_and_null_clears(db: Database) -> None:
    await apply(db, BASE)
    ana = """\
people:
  - handle: ana
    workspace: acme
    name: Ana Silva
    email: null
"""
    assert await apply(db, ana) == ["update person ana (acme): email"]
    async with db.session() as session:
        row = (await session.exec(select(Person).where(Person.handle == "ana"))).one()
        assert row.email is None
        assert row.timezone == "Europe/Lisbon"  # left out: kept


async def test_team_members_may_be_people_only_in_the_database(db: Database) -> None:
    await apply(db, BASE)
    team_only = """\
teams:
  - key: board
    workspace: acme
    name: The board
    members:
      sponsor: [ana, ben]
"""
    assert await apply(db, team_only) == [
        "create team board (acme)",
        "add sponsor ana to board (acme)",
        "add sponsor ben to board (acme)",
    ]


async def test_changed_chat_address_is_updated_and_active_again(db: Database) -> None:
    await apply(db, BASE)
    async with db.session() as session:
        ana = (await session.exec(select(Person).where(Person.handle == "ana"))).one()
        assert ana.id is not None
        await directory.deactivate_address(session, ana.id, "slack", "user deactivated")
    # an unchanged file leaves the deactivated address alone
    assert await apply(db, BASE) == []

    changes = await apply(db, edit(BASE, "U01ABC", "U09XYZ"))

    assert changes == ["update slack address for ana (acme)"]
    async with db.session() as session:
        address = await directory.active_address(session, ana.id)
        assert address is not None
        assert address.address == {"user_id": "U09XYZ"}


async def test_updates_are_reported_by_field(db: Database) -> None:
    await apply(db, BASE)
    changed = edit(BASE, "name: Leadership team", "name: Exec team")
    changed = edit(changed, "name: Acme Corp", "name: Acme Inc")
    changed = edit(changed, "[2026-12-25, 2026-12-24]", "[2026-12-24, 2026-12-25, 2026-12-31]")
    changed = edit(
        changed, 'days: [mon, tue, wed]\n      start: "08:00"', "days: [mon]\n      start: 7:30"
    )

    assert await apply(db, changed) == [
        "update workspace acme: name, holidays",
        "update person ben (acme): working_hours",
        "update team leadership (acme): name",
    ]
    async with db.session() as session:
        ben = (await session.exec(select(Person).where(Person.handle == "ben"))).one()
        assert (ben.work_days, ben.work_start) == ([0], "07:30")  # 7:30 is a time, not 450


async def test_quiet_hours_off_holds_for_a_new_person(any_db: Database) -> None:
    # "off" must reach the database as no quiet hours, not as the column's default.
    changed = edit(BASE, 'end: "18:00"}', 'end: "18:00", quiet: off}')
    changed = edit(changed, 'end: "16:00"', 'end: "16:00"\n      quiet: "21:00-07:00"')
    await apply(any_db, changed)

    async with any_db.session() as session:
        quiet = {p.handle: p.quiet_hours for p in (await session.exec(select(Person))).all()}
    assert (quiet["ana"], quiet["ben"], quiet["cora"]) == (None, "21:00-07:00", "20:00-08:00")
    assert await apply(any_db, changed) == []


async def test_every_change_writes_an_audit_row(db: Database) -> None:
    changes = await apply(db, BASE)
    await apply(db, edit(BASE, "name: Ana Silva", "name: Ana Sousa"), actor="admin:sam")

    async with db.session() as session:
        entries = (await session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))).all()
    assert len(entries) == len(changes) + 1
    assert {e.actor for e in entries[:-1]} == {"config:org.yaml"}
    assert entries[0].action == "config.create_workspace"
    assert entries[0].target == "workspace:acme"
    last = entries[-1]
    assert (last.actor, last.action, last.target) == (
        "admin:sam",
        "config.update_person",
        "person:acme/ana",
    )
    assert last.detail == {"changed": {"name": ["Ana Silva", "Ana Sousa"]}}
    actions = {e.action for e in entries}
    assert {"config.create_person", "config.create_team", "config.add_member"} <= actions
