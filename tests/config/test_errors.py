"""Config as code: bad input is refused naming file, line and field, and stores nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.demo.load import ORGANISATION
from handlers.config.apply import ConfigError, apply_file
from storage.core.db import Database
from tests.support.config import BASE, apply, edit, snapshot

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
