"""Log set-up for every command: plain lines for a terminal, or one JSON object a
line (PULSECOACH_LOG_FORMAT=json) for a log collector.

Events carry their fields as `extra={"event": "round.opened", ...}`; the JSON lines
keep them as keys, the plain lines append them as `key=value`. Only what a call site
puts in `extra` is written: never settings, tokens or request bodies. Stdlib only:
`pulsecoach --help` must not pay for it."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import IO, Any

# Attributes every LogRecord has: anything else on a record came in through `extra`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# Libraries whose INFO lines are noise in production (migrations, job ticks).
_CHATTY = ("alembic", "apscheduler", "aiohttp.access")


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record's own fields (its `extra`), as given."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the
    event's fields and, for an error, the exception's type and traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in fields(record).items():
            line.setdefault(key, value)
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = record.exc_info[0].__name__
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The usual line, with the event's fields after the message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        extra = fields(record)
        if extra:
            line += " " + " ".join(f"{k}={v}" for k, v in extra.items())
        return line.rstrip()


def configure(level: str, form: str, stream: IO[str] | None = None) -> None:
    """Send every log line to `stream` (stderr) in the chosen form, replacing earlier
    handlers."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if form == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    if level != "DEBUG":
        for chatty in _CHATTY:
            logging.getLogger(chatty).setLevel(logging.WARNING)
