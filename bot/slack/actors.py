"""Slack users as pulsecoach people: (team id, user id) -> Actor, cached briefly; someone
unknown is matched by email once, else ignored and logged once.

A miss loads the whole workspace at once: when a round opens, everyone clicks within
minutes, and one query for all beats one per person."""

from __future__ import annotations

import asyncio
import logging
import time

from bot.core.events import Actor
from bot.slack.roster import Roster
from storage.channels import slack as slack_store
from storage.core.db import Database

log = logging.getLogger(__name__)

KNOWN_SECONDS = 300.0
UNKNOWN_SECONDS = 600.0  # how long before an unknown user is looked up in Slack again


class Actors:
    def __init__(self, db: Database, roster: Roster) -> None:
        self.db = db
        self.roster = roster
        self._cache: dict[tuple[str, str], tuple[float, Actor | None]] = {}
        self._loaded: dict[str, float] = {}  # team -> when its users were all loaded
        self._loading: dict[str, asyncio.Future[None]] = {}
        self._logged: set[tuple[str, str]] = set()

    async def resolve(self, team: str, user: str, token: str | None = None) -> Actor | None:
        key = (team, user)
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        actor = await self._find(team, user)
        if actor is None and token and await self.roster.match_user(team, user, token):
            actor = await self._find(team, user)
        if actor is None:
            if key not in self._logged:
                self._logged.add(key)
                log.info("slack: ignoring user %s of team %s: not a pulsecoach person", user, team)
            self._cache[key] = (time.monotonic() + UNKNOWN_SECONDS, None)
            return None
        self._cache[key] = (time.monotonic() + KNOWN_SECONDS, actor)
        return actor

    async def _find(self, team: str, user: str) -> Actor | None:
        loading = self._loading.get(team)
        if loading is None and self._loaded.get(team, 0.0) + KNOWN_SECONDS / 2 < time.monotonic():
            # One load of the whole workspace; misses meanwhile wait for it.
            loading = asyncio.ensure_future(self._load_team(team))
            self._loading[team] = loading
            loading.add_done_callback(lambda _: self._loading.pop(team, None))
        if loading is not None:
            await asyncio.shield(loading)
            hit = self._cache.get((team, user))
            if hit is not None and hit[1] is not None:
                return hit[1]
        async with self.db.session() as session:
            found = await slack_store.person_for_user(session, team, user)
        if found is None:
            return None
        return Actor(person_id=found[0], workspace_id=found[1], channel="slack")

    async def _load_team(self, team: str) -> None:
        async with self.db.session() as session:
            everyone = await slack_store.people_by_user(session, team)
        now = time.monotonic()
        self._loaded[team] = now
        for who, (person_id, workspace_id) in everyone.items():
            actor = Actor(person_id=person_id, workspace_id=workspace_id, channel="slack")
            self._cache[(team, who)] = (now + KNOWN_SECONDS, actor)

    def forget(self) -> None:
        """After a roster change: look everyone up again."""
        self._cache.clear()
        self._loaded.clear()
