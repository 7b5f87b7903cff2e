"""The Slack stand-in's roster: the users a test gives a workspace, and the answers of
users.info, users.lookupByEmail and users.list (pages of at most 200, with a cursor).
A workspace without a roster has everyone in it (but users.list lists no one)."""

from __future__ import annotations

from typing import Any

from tests.support.slack.state import TEAM, StandInState
from tests.support.slack.tiers import USERS_LIST_PAGE


class Users(StandInState):
    def add_user(
        self,
        user_id: str,
        email: str | None = None,
        tz: str = "Europe/Berlin",
        team: str = TEAM,
        deleted: bool = False,
    ) -> None:
        self.teams[team].users[user_id] = {
            "id": user_id,
            "team_id": team,
            "deleted": deleted,
            "tz": tz,
            "profile": {"email": email} if email else {},
        }

    def _user(self, team: str, user: str) -> dict[str, Any] | None:
        users = self.teams[team].users
        if not users:  # no roster given: everyone exists
            return {
                "id": user,
                "team_id": team,
                "deleted": False,
                "tz": "Europe/Berlin",
                "profile": {},
            }
        return users.get(user)

    def _users_info(self, team: str, args: dict[str, Any]) -> dict[str, Any]:
        found = self._user(team, str(args.get("user")))
        return {"ok": True, "user": found} if found else {"ok": False, "error": "user_not_found"}

    def _lookup_by_email(self, team: str, args: dict[str, Any]) -> dict[str, Any]:
        for user in self.teams[team].users.values():
            if user["profile"].get("email", "").lower() == str(args["email"]).lower():
                return {"ok": True, "user": user}
        return {"ok": False, "error": "users_not_found"}

    def _users_list(self, team: str, args: dict[str, Any]) -> dict[str, Any]:
        users = sorted(self.teams[team].users.values(), key=lambda u: str(u["id"]))
        cursor = str(args.get("cursor") or "")
        start = int(cursor.removeprefix("next:")) if cursor.startswith("next:") else 0
        if cursor and not cursor.startswith("next:"):
            return {"ok": False, "error": "invalid_cursor"}
        size = min(int(args.get("limit") or 0) or USERS_LIST_PAGE, USERS_LIST_PAGE)
        page = users[start : start + size]
        more = start + size < len(users)
        return {
            "ok": True,
            "members": page,
            "response_metadata": {"next_cursor": f"next:{start + size}" if more else ""},
        }
