"""Reading a SlackApiError's answer safely. Its `response` is a SlackResponse, except
when Slack's body was not JSON: then slack_sdk hands over the raw aiohttp response,
which has `.status` and no `.get` or `.status_code`."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError

UNREADABLE = "unreadable_response"


def slack_status(error: SlackApiError) -> int:
    """The HTTP status of the failed call (0 when there is none to read)."""
    response: Any = error.response
    status = getattr(response, "status_code", None)
    if status is None:
        status = getattr(response, "status", None)
    return status if isinstance(status, int) else 0


def rate_limited(error: SlackApiError) -> bool:
    """A 429, however Slack said it (the status, or the `ratelimited` code)."""
    return slack_status(error) == 429 or slack_error_code(error) == "ratelimited"


def retry_after(error: SlackApiError) -> float:
    """A 429's Retry-After in seconds; 1 when it gave none we can read."""
    headers = getattr(error.response, "headers", None) or {}
    try:
        return float(headers.get("Retry-After", 1) or 1)
    except ValueError:  # an HTTP date, or garbage: wait the least
        return 1.0


def slack_error_code(error: SlackApiError) -> str:
    """Slack's `error` code; `http NNN` when the body had none; UNREADABLE when the
    body could not be read as Slack's JSON at all."""
    data = getattr(error.response, "data", None)
    if not isinstance(data, dict):
        return UNREADABLE
    return str(data.get("error") or f"http {slack_status(error)}")
