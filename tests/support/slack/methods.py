"""The Slack stand-in's answers to the Web API methods a call that got through asks for:
auth.test, chat.*, views.*, users.* (slack_standin_users.py), files.*
(slack_standin_files.py) and conversations.*, kept as Slack would keep them: each DM's
messages with their metadata, the published Home views, the opened modals."""

from __future__ import annotations

import time
from typing import Any

from tests.support.slack.files import FileUploads
from tests.support.slack.users import Users


class WebApiMethods(Users, FileUploads):
    def _next_ts(self) -> str:
        """Real epoch time, as Slack's ts, strictly increasing."""
        self._ts = max(time.time(), self._ts + 0.000001)
        return f"{self._ts:.6f}"

    def _handle(self, method: str, team: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "team_id": team,
                "team": self.teams[team].name,
                "user_id": "UBOT",
                "bot_id": "BBOT",
                "url": "https://acme.slack.test/",
            }
        if method == "chat.postMessage":
            channel = str(args["channel"])
            if channel.startswith("U"):
                found = self._user(team, channel)
                if found is None:
                    return {"ok": False, "error": "channel_not_found"}
                if found["deleted"]:
                    return {"ok": False, "error": "user_disabled"}
                channel = f"D{channel}"
            message = {
                "ts": self._next_ts(),
                "text": args.get("text"),
                "blocks": args.get("blocks"),
                "metadata": args.get("metadata"),
                "bot_id": "BBOT",
            }
            self.messages[channel].append(message)
            return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}
        if method == "chat.update":
            for message in self.messages.get(str(args["channel"]), []):
                if message["ts"] == args["ts"]:
                    message.update(text=args.get("text"), blocks=args.get("blocks"))
                    return {"ok": True, "channel": args["channel"], "ts": args["ts"]}
            return {"ok": False, "error": "message_not_found"}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "views.publish":
            self.views[str(args["user_id"])] = args["view"]
            return {"ok": True, "view": {**args["view"], "id": "VHOME"}}
        if method in ("views.open", "views.push"):
            if not args.get("trigger_id"):
                return {"ok": False, "error": "invalid_trigger_id"}
            self.opened.append(args["view"])
            return {"ok": True, "view": {**args["view"], "id": f"V{len(self.opened)}"}}
        if method == "views.update":
            return {"ok": True, "view": args.get("view")}
        if method == "users.info":
            return self._users_info(team, args)
        if method == "users.list":
            return self._users_list(team, args)
        if method == "users.lookupByEmail":
            return self._lookup_by_email(team, args)
        if method == "files.getUploadURLExternal":
            return self._upload_url(team, args)
        if method == "files.completeUploadExternal":
            return self._complete_upload(args)
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": f"D{args['users']}"}}
        if method == "conversations.history":
            oldest = float(args.get("oldest") or 0)
            found = [
                m for m in self.messages.get(str(args["channel"]), []) if float(m["ts"]) >= oldest
            ]
            return {"ok": True, "messages": list(reversed(found)), "has_more": False}
        return {"ok": False, "error": "unknown_method"}
