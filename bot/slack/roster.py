"""Who is who in Slack: people matched to Slack users by user id (from the config or an
earlier match) or else by email, and their time zones taken from Slack's profile.

Leadership teams are small, so matching asks per person (users.info, Tier 4;
users.lookupByEmail, Tier 3), paced under those tiers; it runs after install, at start
and twice a day, and for someone unknown who clicks or writes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.slack.link import SlackLink
from bot.slack.responses import rate_limited, retry_after, slack_error_code
from storage.channels import slack as slack_store
from storage.core.models import ChatAddress, Person

log = logging.getLogger(__name__)

REFRESH_SECONDS = 12 * 3600
RATE_LIMITED_TRIES = 5  # a sync pass asks again after a 429's Retry-After, this often
DEACTIVATED = "slack: user deactivated"


@dataclass
class RosterReport:
    matched: int = 0
    unmatched: int = 0
    deactivated: int = 0
    timezones: int = 0


def _zone(user: dict[str, Any]) -> str | None:
    zone = user.get("tz")
    if not isinstance(zone, str) or not zone:
        return None
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return zone


class Roster:
    def __init__(self, link: SlackLink) -> None:
        self.link = link
        self.db = link.db
        self._refreshed: dict[int, float] = {}

    async def _ask(self, team: str, method: str, token: str, **args: Any) -> dict[str, Any] | None:
        """One paced lookup; None when Slack has no such user."""
        await self.link.pacer.wait(team, method)
        try:
            response = await self.link.sender.api_call(
                method, http_verb="GET", params={"token": token, **args}
            )
        except SlackApiError as error:
            if rate_limited(error):
                self.link.pacer.hold(team, method, retry_after(error))
                raise
            if slack_error_code(error) in ("user_not_found", "users_not_found"):
                return None
            raise
        user: dict[str, Any] = response["user"]
        return user

    async def _lookup(
        self, team: str, token: str, person: Person, address: ChatAddress | None
    ) -> dict[str, Any] | None:
        user_id = (address.address.get("user_id") if address else None) or None
        if user_id:
            found = await self._ask(team, "users.info", token, user=user_id)
            if found is not None:
                return found
        if person.email:
            return await self._ask(team, "users.lookupByEmail", token, email=person.email)
        return None

    async def _lookup_patiently(
        self, team: str, token: str, person: Person, address: ChatAddress | None
    ) -> dict[str, Any] | None:
        """As _lookup, but a 429 waits out its Retry-After (the pacer holds the method)
        and asks again: else that person would wait for the next pass, 12 hours on."""
        for tries_left in range(RATE_LIMITED_TRIES - 1, -1, -1):
            try:
                return await self._lookup(team, token, person, address)
            except SlackApiError as error:
                if not rate_limited(error) or not tries_left:
                    raise
                log.info("roster: rate limited looking up %s; trying again", person.handle)
        return None

    async def _apply(
        self, team: str, person: Person, address: ChatAddress | None, user: dict[str, Any]
    ) -> RosterReport:
        report = RosterReport()
        assert person.id is not None
        async with self.db.session() as session:
            if user.get("deleted"):
                if address is not None and address.active:
                    await slack_store.deactivate_address(session, person.id, DEACTIVATED)
                report.deactivated += 1
                return report
            wanted = {"user_id": user["id"], "team_id": team}
            stale = address is None or dict(address.address) != wanted
            if stale or (address is not None and address.inactive_reason == DEACTIVATED):
                await slack_store.set_address(session, person.id, wanted, address)
            report.matched += 1
            zone = _zone(user)
            if zone and await slack_store.set_timezone(session, person.id, zone):
                report.timezones += 1
        self._refreshed[person.id] = time.monotonic()
        return report

    async def sync(self, team: str) -> RosterReport:
        """Match everyone of the team's workspace and refresh their time zones."""
        total = RosterReport()
        token = await self.link.bot_token(team)
        async with self.db.session() as session:
            workspace = await slack_store.workspace_for_team(session, team)
            people = (
                await slack_store.people_with_addresses(session, workspace.id or 0)
                if workspace
                else []
            )
        if not token or not people:
            return total
        for person, address in people:
            try:
                user = await self._lookup_patiently(team, token, person, address)
            except (SlackApiError, TimeoutError, aiohttp.ClientError) as error:
                log.warning("roster: looking up %s failed: %s", person.handle, type(error).__name__)
                total.unmatched += 1
                continue
            if user is None:
                total.unmatched += 1
                continue
            report = await self._apply(team, person, address, user)
            for name in ("matched", "deactivated", "timezones"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
        log.info(
            "roster of Slack team %s: %d matched, %d unmatched, %d time zones changed",
            team,
            total.matched,
            total.unmatched,
            total.timezones,
        )
        return total

    async def match_user(self, team: str, user_id: str, token: str) -> bool:
        """Someone unknown clicked or wrote: match them by their Slack email, if anyone."""
        try:
            user = await self._ask(team, "users.info", token, user=user_id)
        except (SlackApiError, TimeoutError, aiohttp.ClientError):
            return False
        email = ((user or {}).get("profile") or {}).get("email")
        if not user or not email or user.get("deleted"):
            return False
        async with self.db.session() as session:
            workspace = await slack_store.workspace_for_team(session, team)
            person = (
                await slack_store.person_by_email(session, workspace.id or 0, email)
                if workspace
                else None
            )
        if person is None:
            return False
        await self._apply(team, person, None, user)
        return True

    async def refresh(self, team: str, person_id: int, user_id: str, token: str) -> None:
        """The person's time zone from their profile, at most twice a day."""
        last = self._refreshed.get(person_id)
        if last is not None and time.monotonic() - last < REFRESH_SECONDS:
            return
        self._refreshed[person_id] = time.monotonic()
        try:
            user = await self._ask(team, "users.info", token, user=user_id)
        except (SlackApiError, TimeoutError, aiohttp.ClientError):
            return
        zone = _zone(user or {})
        if zone:
            async with self.db.session() as session:
                await slack_store.set_timezone(session, person_id, zone)
