"""OAuth on the Slack stand-in: install codes a test hands out, oauth.v2.access for a
code or a refresh token, and the bot tokens (rotating or not) it grants."""

from __future__ import annotations

from typing import Any

from tests.support.slack.state import StandInState


class OAuth(StandInState):
    def add_oauth_code(self, code: str, team_id: str, name: str, rotating: bool = False) -> None:
        self.oauth_codes[code] = {"team": team_id, "name": name, "rotating": rotating}

    def _oauth(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("grant_type") == "refresh_token":
            team = self.refresh_tokens.pop(str(args.get("refresh_token")), None)
            if team is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            return self._grant(team, rotating=True)
        code = self.oauth_codes.pop(str(args.get("code")), None)
        if code is None:
            return {"ok": False, "error": "invalid_code"}
        self.add_team(code["team"], code["name"], f"xoxb-unused-{code['team']}")
        return {
            **self._grant(code["team"], rotating=code["rotating"]),
            "app_id": "A0PULSE",
            "bot_user_id": "UBOT",
            "scope": "chat:write,im:write,im:history,commands,users:read,users:read.email,"
            "files:write",
            "team": {"id": code["team"], "name": code["name"]},
            "enterprise": None,
            "authed_user": {"id": "UINSTALLER"},
            "is_enterprise_install": False,
        }

    def _grant(self, team: str, rotating: bool) -> dict[str, Any]:
        token = f"xoxb-{team}-{self._rng.getrandbits(48):012x}"
        self.tokens[token] = team
        grant: dict[str, Any] = {"ok": True, "access_token": token, "token_type": "bot"}
        if rotating:
            refresh = f"xoxe-{self._rng.getrandbits(48):012x}"
            self.refresh_tokens[refresh] = team
            grant.update(refresh_token=refresh, expires_in=self.token_lifetime)
        return grant
