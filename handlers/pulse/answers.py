"""The answer desk: pulse clicks stored a batch at a time (group commit).

When a round opens, everyone gets the message at once and many answer within the
same minutes: seven clicks each. One transaction per click (read the round, the
invite, the key, write, re-read the answers) caps a server at ~100 clicks a second
and makes clicks queue for SQLite's single writer. Here each click is checked
against a short-lived snapshot of its round (status, items, scale, key, invitees),
then waits for the next group commit: one transaction stores every click that
arrived meanwhile and reads back each respondent's answers for re-rendering.

Nothing is trusted to the snapshot that matters for correctness: the transaction
re-reads which rounds are open, so a click that lands after a close (on any
server) is refused, never stored. The anonymity key stays in memory at most
SNAPSHOT_SECONDS after it was read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.core.events import Refused
from bot.core.metrics import ANSWER_COMMITS, ANSWERS_STORED
from handlers.pulse.view import PulseLayout
from prompts.instruments import Instrument
from prompts.texts import text
from scheduler.calendar.people import person_timezone
from storage.core import anonymity
from storage.core.db import Database
from storage.pulse import answers as pulse_answers
from storage.pulse.answers import AnswerRow
from storage.pulse.models import PulseRound

SNAPSHOT_SECONDS = 5.0
BATCH = 500  # clicks per transaction at most: keeps one commit well under a second

Mine = tuple[dict[str, int], str | None]  # a respondent's answers so far, and comment


@dataclass(frozen=True)
class Invitee:
    locale: str
    tz: ZoneInfo


@dataclass
class RoundSnapshot:
    round: PulseRound
    team_name: str
    instrument: Instrument
    key: str | None
    invitees: dict[int, Invitee]
    answered: set[int]  # people whose invite is already marked answered
    expires: float
    layouts: dict[tuple[str, str], PulseLayout] = field(default_factory=dict)

    def layout(self, invitee: Invitee) -> PulseLayout:
        """How this round's message looks in the invitee's locale and time zone."""
        key = (invitee.locale, invitee.tz.key)
        found = self.layouts.get(key)
        if found is None:
            found = self.layouts[key] = PulseLayout(
                self.round, self.team_name, self.instrument, invitee.tz, invitee.locale
            )
        return found

    def respondent(self, person_id: int) -> str | None:
        if self.round.privacy == "confidential":
            return anonymity.confidential_token(person_id)
        if self.key is None:
            return None
        return anonymity.anonymous_token(self.key, self.round.id or 0, person_id)


@dataclass
class _Click:
    round_id: int
    person_id: int
    row: AnswerRow
    first: bool  # this person's first answer in the round: mark the invite, cancel nudges
    locale: str
    done: asyncio.Future[Mine] = field(repr=False)


class AnswerDesk:
    def __init__(self, db: Database, instruments: Mapping[str, Instrument]) -> None:
        self.db = db
        self.instruments = instruments
        self._snapshots: dict[int, RoundSnapshot] = {}
        self._loading: dict[int, asyncio.Future[RoundSnapshot | None]] = {}
        self._queue: list[_Click] = []
        self._writer: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ snapshots

    async def snapshot(self, round_id: int) -> RoundSnapshot | None:
        """The round as of at most SNAPSHOT_SECONDS ago; one load however many ask."""
        found = self._snapshots.get(round_id)
        if found is not None and found.expires > time.monotonic():
            return found
        loading = self._loading.get(round_id)
        if loading is None:
            loading = asyncio.ensure_future(self._load(round_id))
            self._loading[round_id] = loading
            loading.add_done_callback(lambda _: self._loading.pop(round_id, None))
        return await asyncio.shield(loading)

    async def _load(self, round_id: int) -> RoundSnapshot | None:
        async with self.db.session() as session:
            context = await pulse_answers.round_context(session, round_id)
        if context is None:
            self._snapshots.pop(round_id, None)
            return None
        instrument = self.instruments.get(context.program.instrument)
        if instrument is None:
            raise Refused(
                f"Instrument {context.program.instrument!r} of program "
                f"{context.program.key!r} is not loaded."
            )
        snapshot = RoundSnapshot(
            round=context.round,
            team_name=context.team.name,
            instrument=instrument,
            key=context.key,
            invitees={
                person.id or 0: Invitee(
                    person.locale, person_timezone(person, context.team, context.workspace)
                )
                for _, person in context.invitees
            },
            answered={invite.person_id for invite, _ in context.invitees if invite.answered},
            expires=time.monotonic() + SNAPSHOT_SECONDS,
        )
        self._snapshots[round_id] = snapshot
        return snapshot

    def forget(self, round_id: int) -> None:
        self._snapshots.pop(round_id, None)

    # ------------------------------------------------------------------ group commit

    async def store(
        self, snapshot: RoundSnapshot, person_id: int, respondent: str, item_key: str, score: int
    ) -> Mine:
        """Store one answer with the next group commit; the respondent's answers after it."""
        round_id = snapshot.round.id or 0
        first = person_id not in snapshot.answered
        snapshot.answered.add(person_id)
        click = _Click(
            round_id,
            person_id,
            AnswerRow(round_id, respondent, item_key, score),
            first,
            snapshot.invitees[person_id].locale,
            asyncio.get_running_loop().create_future(),
        )
        self._queue.append(click)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="pulse answer writer")
        return await click.done

    async def _write(self) -> None:
        """Commit what is queued, then what queued meanwhile, until nothing is left."""
        while self._queue:
            batch, self._queue = self._queue[:BATCH], self._queue[BATCH:]
            try:
                await self._commit(batch)
            except Exception as error:  # every waiting click learns it failed
                for click in batch:
                    if click.first:  # not stored: the invite still needs marking
                        self._forget_answered(click)
                    if not click.done.done():
                        click.done.set_exception(error)

    async def _commit(self, batch: list[_Click]) -> None:
        rows = [c.row for c in batch]
        firsts = [(c.round_id, c.person_id) for c in batch if c.first]
        # Whoever answered needs no nudge.
        nudges: dict[int, list[str]] = {}
        for round_id, person_id in firsts:
            nudges.setdefault(round_id, []).append(f"pulse:{round_id}:remind:{person_id}:")
        stored = await self.db.transact(
            lambda connection: pulse_answers.store_batch(connection, rows, firsts, nudges)
        )
        ANSWER_COMMITS.inc()
        ANSWERS_STORED.inc(sum(1 for c in batch if c.round_id in stored.open_rounds))
        for click in batch:
            if click.round_id not in stored.open_rounds:
                self.forget(click.round_id)
                click.done.set_exception(Refused(text("pulse.closed.refused", click.locale)))
                continue
            key = (click.round_id, click.row.respondent)
            click.done.set_result((stored.answers[key], stored.comments.get(key)))

    def _forget_answered(self, click: _Click) -> None:
        snapshot = self._snapshots.get(click.round_id)
        if snapshot is not None:
            snapshot.answered.discard(click.person_id)
