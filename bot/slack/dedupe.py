"""Events API retries taken once: Slack resends an event it thinks we missed (up to 3
times, `X-Slack-Retry-Num`), possibly to another process; the event id decides.

A small in-process memory answers most retries without the database; the database
settles retries that land on another process. Ids older than a day are purged.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from storage.channels import slack as slack_store
from storage.core.db import Database

MEMORY = 10_000
KEEP = timedelta(days=1)
PURGE_EVERY = 1_000


class EventIds:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._since_purge = 0

    async def first_time(self, event_id: str) -> bool:
        if event_id in self._seen:
            return False
        now = datetime.now(UTC)
        async with self.db.session() as session:
            first = await slack_store.first_sighting(session, event_id, now)
            self._since_purge += 1
            if self._since_purge >= PURGE_EVERY:
                self._since_purge = 0
                await slack_store.purge_events(session, now - KEEP)
        self._seen[event_id] = None
        if len(self._seen) > MEMORY:
            self._seen.popitem(last=False)
        return first
