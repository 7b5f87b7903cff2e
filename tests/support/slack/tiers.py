"""Slack's documented Web API rate limits, as the strict stand-in enforces them: per
method, per workspace, over a sliding minute (Tier 2 ~20, Tier 3 ~50, Tier 4 ~100 a
minute), and `chat.postMessage`'s own: about one message a second per channel, plus a
workspace-wide limit (600 a minute here, the app's default pace)."""

from __future__ import annotations

TIER_1, TIER_2, TIER_3, TIER_4 = 1, 20, 50, 100

TIERS: dict[str, int] = {
    "users.list": TIER_2,
    "conversations.list": TIER_2,
    "chat.update": TIER_3,
    "chat.delete": TIER_3,
    "conversations.open": TIER_3,
    "conversations.history": TIER_3,
    "users.lookupByEmail": TIER_3,
    "auth.test": TIER_4,  # "special" in the docs: generous; tier 4 here
    "users.info": TIER_4,
    "chat.postEphemeral": TIER_4,
    "views.publish": TIER_4,
    "views.open": TIER_4,
    "views.push": TIER_4,
    "views.update": TIER_4,
    "files.getUploadURLExternal": TIER_4,
    "files.completeUploadExternal": TIER_4,
}
POSTS_PER_MINUTE = 600  # chat.postMessage per workspace
CHANNEL_SECONDS = 1.0  # chat.postMessage: one per channel in any such window
USERS_LIST_PAGE = 200  # users.list: the most Slack returns per page
