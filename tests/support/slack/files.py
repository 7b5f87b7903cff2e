"""File uploads on the Slack stand-in, Slack's three steps: files.getUploadURLExternal
hands out an upload URL (on the stand-in too), the upload to it carries the bytes and
is recorded as method "upload", files.completeUploadExternal shares the files."""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from tests.support.slack.state import Call, StandInState


class FileUploads(StandInState):
    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL files.getUploadURLExternal hands out (files.slack.com in Slack):
        the raw bytes, answered in plain text; `fail("upload", status=…)` refuses it."""
        file_id = request.match_info["file_id"]
        data = await request.read()
        pending = self.files.get(file_id)
        status, body = 200, f"OK - {len(data)}"
        if self.faults["upload"]:
            fault = self.faults["upload"][0]
            fault.count -= 1
            if fault.count <= 0:
                self.faults["upload"].popleft()
            status, body = fault.status if fault.status != 200 else 500, "upload failed"
        elif pending is None:
            status, body = 404, "no such upload"
        else:
            pending["data"] = data
        args = {"file_id": file_id, "size": len(data)}
        team = pending["team"] if pending else None
        error = None if status == 200 else body
        self.calls.append(Call("upload", team, args, status, error, time.monotonic()))
        return web.Response(text=body, status=status, content_type="text/plain")

    def _upload_url(self, team: str, args: dict[str, Any]) -> dict[str, Any]:
        """files.getUploadURLExternal"""
        if not args.get("filename") or not str(args.get("length") or "").isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{len(self.files) + 1:06d}"
        self.files[file_id] = {
            "id": file_id,
            "team": team,
            "filename": args["filename"],
            "length": int(args["length"]),
            "alt_txt": args.get("alt_txt"),
            "data": None,
        }
        return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        """files.completeUploadExternal"""
        listed = json.loads(args.get("files") or "[]")
        known = [self.files.get(str(f.get("id"))) for f in listed]
        if not listed or any(f is None or f["data"] is None for f in known):
            return {"ok": False, "error": "file_not_found"}
        shared = []
        for entry, found in zip(listed, known, strict=True):
            assert found is not None
            share = {
                "file_id": found["id"],
                "filename": found["filename"],
                "alt_txt": found["alt_txt"],
                "data": found["data"],
                "title": entry.get("title"),
                "channel_id": args.get("channel_id"),
                "thread_ts": args.get("thread_ts"),
                "initial_comment": args.get("initial_comment"),
            }
            self.shared.append(share)
            shared.append(
                {"id": found["id"], "title": entry.get("title"), "name": found["filename"]}
            )
        return {"ok": True, "files": shared}
