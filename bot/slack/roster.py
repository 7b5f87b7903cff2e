"""Who is who in Slack: people matched to Slack users by user id (from the config or an
earlier match) or else by email, and their time zones taken from Slack's profile.

A pass reads the workspace's members from users.list (Tier 2, 200 a page, paced) and
matches everyone from that one reading; it runs after install, at start and twice a
day. Someone unknown who clicks or writes is looked up alone (users.info, Tier 4).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.slack.link import SlackLink
from bot.slack.pacing import Booked
from bot.slack.responses import rate_limited, retry_after, slack_error_code, slack_status
from storage.channels import slack as slack_store
from storage.core.models import ChatAddress, Person

log = logging.getLogger(__name__)

REFRESH_SECONDS = 12 * 3600
PAGE = 200  # users.list members per page: the most Slack recommends
RATE_LIMITED_TRIES = 10  # a 429's Retry-After is waited out, this often a pass
PAGE_TRIES = 4  # a page answered 5xx (or timed out) is asked again this often
BACKOFF = 0.5  # seconds, doubled per failure: 1, 2, 4, 8
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

    async def _listing(self, team: str, token: str) -> list[dict[str, Any]]:
        """Every member of the workspace, from users.list pages (Tier 2, paced): 50
        pages for 10,000 people, where one users.info each took 100 minutes. A 429 is
        waited out and a 5xx or a timeout tried again after a backoff, a few times."""
        members: list[dict[str, Any]] = []
        cursor = ""
        failures = limited = 0
        while True:
            await self.link.pacer.wait(team, "users.list")
            params: dict[str, Any] = {"token": token, "limit": PAGE}
            if cursor:
                params["cursor"] = cursor
            try:
                response = await self.link.sender.api_call(
                    "users.list", http_verb="GET", params=params
                )
            except SlackApiError as error:
                if rate_limited(error) and limited < RATE_LIMITED_TRIES:
                    limited += 1  # the pacer holds the method for its Retry-After
                    self.link.pacer.hold(team, "users.list", retry_after(error))
                    continue
                if slack_status(error) < 500 or failures >= PAGE_TRIES:
                    raise
                failures += 1
                await asyncio.sleep(BACKOFF * 2**failures)
                continue
            except (TimeoutError, aiohttp.ClientError):
                if failures >= PAGE_TRIES:
                    raise
                failures += 1
                await asyncio.sleep(BACKOFF * 2**failures)
                continue
            members.extend(m for m in response.get("members") or [] if isinstance(m, dict))
            cursor = str((response.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                return members

    async def _apply(
        self, team: str, person: Person, address: ChatAddress | None, user: dict[str, Any]
    ) -> RosterReport:
        """The person's address and time zone from their Slack user; the database is
        touched only when something changed (a roster pass over 10,000 people who are
        all known writes nothing)."""
        report = RosterReport()
        assert person.id is not None
        if user.get("deleted"):
            report.deactivated += 1
            if address is not None and address.active:
                async with self.db.session() as session:
                    await slack_store.deactivate_address(session, person.id, DEACTIVATED)
            return report
        report.matched += 1
        wanted = {"user_id": user["id"], "team_id": team}
        stale = address is None or dict(address.address) != wanted
        revived = address is not None and address.inactive_reason == DEACTIVATED
        zone = _zone(user)
        moved = bool(zone) and zone != person.timezone
        if stale or revived or moved:
            async with self.db.session() as session:
                if stale or revived:
                    await slack_store.set_address(session, person.id, wanted, address)
                if zone and await slack_store.set_timezone(session, person.id, zone):
                    report.timezones += 1
        self._refreshed[person.id] = time.monotonic()
        return report

    async def sync(self, team: str) -> RosterReport:
        """Match everyone of the team's workspace and refresh their time zones, from one
        reading of the workspace's members: by the user id we have, else by email."""
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
        try:
            members = await self._listing(team, token)
        except (SlackApiError, TimeoutError, aiohttp.ClientError) as error:
            log.warning("roster of Slack team %s: users.list failed: %s", team, _why(error))
            total.unmatched = len(people)
            return total
        by_id = {str(m.get("id")): m for m in members}
        by_email: dict[str, dict[str, Any]] = {}
        for member in members:  # an active user wins over a deactivated one's old email
            email = str((member.get("profile") or {}).get("email") or "").lower()
            if email and (email not in by_email or by_email[email].get("deleted")):
                by_email[email] = member
        for person, address in people:
            user_id = str((address.address.get("user_id") if address else None) or "")
            user = by_id.get(user_id) if user_id else None
            if user is None and person.email:
                user = by_email.get(person.email.lower())
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
        except Booked:
            del self._refreshed[person_id]  # not asked (the tier was busy): next visit asks
            raise
        except (SlackApiError, TimeoutError, aiohttp.ClientError):
            return
        zone = _zone(user or {})
        if zone:
            async with self.db.session() as session:
                await slack_store.set_timezone(session, person_id, zone)


def _why(error: Exception) -> str:
    return slack_error_code(error) if isinstance(error, SlackApiError) else type(error).__name__
