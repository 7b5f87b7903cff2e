"""Updates of a clicked message through its `response_url`: one at a time per message,
and only the newest.

Someone answering a pulse clicks seven times in a few seconds. Each click's reply
renders the whole message again; sent side by side, two of them can reach Slack in
the wrong order and leave an older state on screen. Here a message's updates go one
after another, and an update still waiting when a newer one arrives is dropped
unrendered: the newest carries everything the older one would have shown. Under a
burst this also saves the work of states nobody would have seen.

A paced send (chat.update of a DM copy, after a Home-tab click: ~50 a minute per
workspace) waits for the pacer without an after-ack slot; holding one there, a burst
of Home-tab answers would stall every other click's work behind the pacer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.core.metrics import MESSAGE_UPDATES
from bot.slack.background import AfterAck
from bot.slack.pacing import Booked

log = logging.getLogger(__name__)

Send = Callable[[], Awaitable[None]]


class MessageUpdates:
    """Runs on the after-ack pool, so its work is bounded and drained with the rest."""

    def __init__(self, after: AfterAck) -> None:
        self.after = after
        # message key -> what waits behind the send under way: (send, droppable, paced)
        self._waiting: dict[str, list[tuple[Send, bool, bool]]] = {}
        self.superseded = 0  # updates dropped for a newer one (for tests and metrics)

    def submit(self, key: str, send: Send, droppable: bool = True, paced: bool = False) -> None:
        """Send after what is under way for the message `key`. A droppable send (an
        update) replaces droppable ones still waiting; others (a notice) always go. A
        paced send runs without an after-ack slot (see above)."""
        waiting = self._waiting.get(key)
        if waiting is None:
            self._waiting[key] = []
            # The chain takes a slot per unpaced send, never while it waits.
            self.after.spawn(self._run(key, send, paced), "message update", bounded=False)
            return
        if droppable:
            kept = [item for item in waiting if not item[1]]
            self.superseded += len(waiting) - len(kept)
            MESSAGE_UPDATES.labels("slack", "superseded").inc(len(waiting) - len(kept))
            waiting[:] = kept
        waiting.append((send, droppable, paced))

    async def _run(self, key: str, send: Send, paced: bool) -> None:
        try:
            while True:
                try:
                    if paced:
                        await send()
                    else:
                        async with self.after.slot:
                            await send()
                    MESSAGE_UPDATES.labels("slack", "sent").inc()
                except Booked as booked:  # chat.update's pace is minutes ahead: not sent
                    self.after.booked(booked)
                except Exception:
                    log.exception("slack: updating a message failed")
                waiting = self._waiting[key]
                if not waiting:
                    return
                send, _, paced = waiting.pop(0)
        finally:
            self._waiting.pop(key, None)
