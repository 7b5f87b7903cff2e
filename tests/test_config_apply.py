"""Config as code: `apply` a YAML organisation file, `export-config` it back."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.demo.load import ORGANISATION
from handlers.config.apply import ConfigError, apply_file, apply_text, export_config
from storage import directory
from storage.db import Database
from storage.models import AuditEntry, ChatAddress, Membership, Person, Team, Workspace

TABLES = (Workspace, Person, Team, Membership, ChatAddress, AuditEntry)

# Line numbers matter: the error tests below name them.
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


async def apply(db: Database, text: str, **kwargs: Any) -> list[str]:
    return (await apply_text(db, text, filename="org.yaml", **kwargs)).changes


# --------------------------------------------------------------------------- the demo


async def test_demo_organisation_applies(any_db: Database) -> None:
    report = await apply_file(any_db, ORGANISATION)

    assert not report.dry_run
    assert report.changes[0] == "create workspace demo"
    assert "create person maya (demo)" in report.changes
    assert "add coach elena to leadership (demo)" in report.changes
    async with any_db.session() as session:
        (workspace,) = (await session.exec(select(Workspace))).all()
        assert (workspace.key, workspace.channel, workspace.external_id) == (
            "demo",
            "local",
            "demo",
        )
        assert workspace.timezone == "Europe/Berlin"
        assert "2026-12-25" in workspace.holidays
        people = (await session.exec(select(Person))).all()
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
    assert len(real.changes) == 20  # workspace, 8 people, 9 memberships, program, sessions


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


# --------------------------------------------------------------------------- export


async def test_export_round_trip(any_db: Database, tmp_path: Path) -> None:
    await apply(any_db, BASE)
    exported = await export_config(any_db)

    assert "holidays: [2026-12-24, 2026-12-25]" in exported
    assert "chat:\n      slack:\n        user_id: U01ABC" in exported
    assert "leave: {from: 2026-12-20, until: 2027-01-03}" in exported
    assert "snoozed_until: 2026-12-01 08:00:00+00:00" in exported
    assert "locale: 'no'" in exported
    # applying an export to the same database changes nothing
    assert await apply(any_db, exported) == []
    assert await export_config(any_db) == exported

    # and to an empty one rebuilds the same organisation
    fresh = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    await fresh.upgrade()
    try:
        assert await apply(fresh, exported) != []
        assert await export_config(fresh) == exported
        assert await apply(fresh, BASE) == []
    finally:
        await fresh.dispose()


async def test_export_of_the_demo_round_trips(db: Database, tmp_path: Path) -> None:
    await apply_file(db, ORGANISATION)
    exported = await export_config(db)
    fresh = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    await fresh.upgrade()
    try:
        await apply(fresh, exported)
        assert await export_config(fresh) == exported
        assert await apply_file(fresh, ORGANISATION) == await apply_file(db, ORGANISATION)
    finally:
        await fresh.dispose()


async def test_export_of_an_empty_database(db: Database) -> None:
    exported = await export_config(db)
    assert exported.endswith("{}\n")
    assert await apply(db, exported) == []


# --------------------------------------------------------------------------- bad input

BAD_INPUT = [
    pytest.param(
        edit(BASE, "name: Acme Corp", "name: [Acme Corp"),
        "org.yaml:4: invalid YAML: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence on line 3)",
        id="yaml-syntax",
    ),
    pytest.param(
        edit(BASE, "email: ana@", "emial: ana@"),
        "org.yaml:16: people[0].emial: unknown field",
        id="unknown-key",
    ),
    pytest.param(
        BASE + "programmes: []\n",
        "org.yaml:52: programmes: unknown section (expected workspaces, people, teams, "
        "programs, contracts, commitments, sessions)",
        id="unknown-section",
    ),
    pytest.param(
        edit(BASE, "name: Ben Okoro", "name: [Ben, Okoro]"),
        "org.yaml:22: people[1].name: must be text",
        id="wrong-type",
    ),
    pytest.param(
        edit(BASE, "Europe/Lisbon", "Europe/Berln"),
        "org.yaml:17: people[0].timezone: 'Europe/Berln' is not an IANA time zone",
        id="bad-timezone",
    ),
    pytest.param(
        edit(BASE, 'start: "08:00"', 'start: "25:00"'),
        "org.yaml:26: people[1].working_hours.start: '25:00' is not a time HH:MM",
        id="bad-time",
    ),
    pytest.param(
        edit(BASE, 'start: "08:00"', "start: 25:00"),
        "org.yaml:26: people[1].working_hours.start: '25:00' is not a time HH:MM",
        id="bad-time-unquoted",
    ),
    pytest.param(
        edit(BASE, "days: [mon, tue, wed]", "days: [mon, tue, wen]"),
        "org.yaml:25: people[1].working_hours.days[2]: "
        "'wen' is not a weekday (mon, tue, wed, thu, fri, sat, sun)",
        id="unknown-weekday",
    ),
    pytest.param(
        edit(BASE, 'end: "16:00"', 'end: "07:00"'),
        "org.yaml:27: people[1].working_hours.end: must be after start (08:00)",
        id="end-before-start",
    ),
    pytest.param(
        edit(BASE, "handle: adam", "handle: ana"),
        "org.yaml:32: people[3].handle: person 'ana' is defined twice in workspace 'acme' "
        "(first on line 13)",
        id="duplicate-handle",
    ),
    pytest.param(
        edit(BASE, "        - ben\n", "        - bob\n"),
        "org.yaml:48: teams[0].members.executive[1]: no person 'bob' in workspace 'acme' "
        "(not in this file's people nor in the database)",
        id="unknown-member",
    ),
    pytest.param(
        edit(BASE, "coach: [cora]", "coach: [cora, lou]"),
        "org.yaml:49: teams[0].members.coach[1]: no person 'lou' in workspace 'acme' "
        "(not in this file's people nor in the database)",
        id="member-of-another-workspace",
    ),
    pytest.param(
        edit(BASE, "sponsor: []", "chair: []"),
        "org.yaml:51: teams[0].members.chair: "
        "'chair' is not a role (executive, coach, admin, sponsor)",
        id="unknown-role",
    ),
    pytest.param(
        edit(BASE, "coach: [cora]", "coach: [cora, cora]"),
        "org.yaml:49: teams[0].members.coach[1]: 'cora' is listed twice as coach",
        id="member-twice",
    ),
    pytest.param(
        edit(BASE, "channel: slack", "channel: local"),
        "org.yaml:10: workspaces[1].channel: only one local workspace is allowed "
        "('acme' is local, line 4)",
        id="two-local-workspaces",
    ),
    pytest.param(
        edit(BASE, "channel: slack", "channel: discord"),
        "org.yaml:4: workspaces[0].channel: 'discord' is not one of 'local', 'slack' or 'teams'",
        id="unknown-channel",
    ),
    pytest.param(
        edit(BASE, "    external_id: T0123\n", ""),
        "org.yaml:2: workspaces[0].external_id: required for a slack workspace (Slack team id)",
        id="slack-without-external-id",
    ),
    pytest.param(
        edit(BASE, "workspace: acme\n    name: Ana", "workspace: acm\n    name: Ana"),
        "org.yaml:14: people[0].workspace: no workspace 'acm' in this file or the database",
        id="unknown-workspace",
    ),
    pytest.param(
        edit(BASE, "workspace: acme\n    name: Leadership", "workspace: acm\n    name: Leadership"),
        "org.yaml:42: teams[0].workspace: no workspace 'acm' in this file or the database",
        id="team-in-unknown-workspace",
    ),
    pytest.param(
        edit(BASE, "snoozed_until: 2026-12-01T09:00:00+01:00", "snoozed_until: 2026-12-01 09:00"),
        "org.yaml:35: people[3].snoozed_until: "
        "must include a time zone offset, e.g. 2026-12-01T09:00:00+01:00",
        id="naive-snooze",
    ),
    pytest.param(
        edit(BASE, "until: 2027-01-03", "until: 2026-12-01"),
        "org.yaml:31: people[2].leave.until: must not be before from (2026-12-20)",
        id="leave-backwards",
    ),
    pytest.param(
        edit(BASE, "  - handle: ben", "  - handle: Ben"),
        "org.yaml:20: people[1].handle: "
        "'Ben' is not a valid handle (lowercase letters, digits, '.', '_' and '-')",
        id="bad-handle",
    ),
    pytest.param(
        edit(BASE, "    name: Ben Okoro\n", "    name: Ben Okoro\n    name: Benjamin\n"),
        "org.yaml:23: people[1].name: key appears twice (line 22)",
        id="yaml-duplicate-key",
    ),
    pytest.param(
        "- just\n- a list\n",
        "org.yaml:1: the file must be a mapping of sections (workspaces, people, teams, "
        "programs, contracts, commitments, sessions)",
        id="not-a-mapping",
    ),
    pytest.param("# nothing\n", "org.yaml:1: the file is empty", id="empty"),
]


@pytest.mark.parametrize(("text", "message"), BAD_INPUT)
async def test_bad_input_names_file_line_and_field(db: Database, text: str, message: str) -> None:
    before = await snapshot(db)

    with pytest.raises(ConfigError) as caught:
        await apply(db, text)

    assert str(caught.value) == message
    assert await snapshot(db) == before


LATE_OR_SEMANTIC = {
    "unknown-member",
    "member-of-another-workspace",
    "unknown-workspace",
    "team-in-unknown-workspace",
    "duplicate-handle",
    "two-local-workspaces",
    "bad-timezone",
}


@pytest.mark.parametrize(
    ("text", "message"), [param for param in BAD_INPUT if param.id in LATE_OR_SEMANTIC]
)
async def test_bad_input_leaves_an_existing_organisation_alone(
    db: Database, text: str, message: str
) -> None:
    await apply(db, BASE)
    before = await snapshot(db)

    with pytest.raises(ConfigError) as caught:
        await apply(db, text)

    assert str(caught.value) == message
    assert await snapshot(db) == before


async def test_late_error_stores_nothing(any_db: Database) -> None:
    """A bad team member is only found after workspaces and people were written."""
    late = edit(BASE, "        - ben\n", "        - bob\n")

    with pytest.raises(ConfigError, match=r"org.yaml:48: teams\[0\].members.executive\[1\]"):
        await apply(any_db, late)

    assert all(rows == [] for rows in (await snapshot(any_db)).values())

    await apply(any_db, BASE)
    before = await snapshot(any_db)
    later = edit(late, "name: Ana Silva", "name: Ana Sousa")
    later = edit(later, "teams:\n", "  - handle: nia\n    workspace: acme\n    name: Nia\nteams:\n")
    with pytest.raises(ConfigError, match=r"org.yaml:51: teams\[0\].members.executive\[1\]"):
        await apply(any_db, later)
    assert await snapshot(any_db) == before


async def test_a_second_local_workspace_in_the_database_is_refused(db: Database) -> None:
    await apply_file(db, ORGANISATION)
    before = await snapshot(db)

    with pytest.raises(ConfigError) as caught:
        await apply(db, BASE)

    assert str(caught.value) == (
        "org.yaml:10: workspaces[1].channel: only one local workspace is allowed; "
        "'demo' is already local"
    )
    assert await snapshot(db) == before


async def test_apply_file_errors_name_the_path(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(edit(BASE, "Europe/Lisbon", "Europe/Berln"), encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        await apply_file(db, path)

    assert str(caught.value) == (
        f"{path}:17: people[0].timezone: 'Europe/Berln' is not an IANA time zone"
    )
    assert caught.value.line == 17
    assert caught.value.field == "people[0].timezone"
