"""Why a workspace's addresses went inactive, when only the app's install is at fault:
these, and only these, come back on when the app works again (an install over OAuth,
or SLACK_BOT_TOKEN passing auth.test at start)."""

from __future__ import annotations

UNINSTALLED = "slack app uninstalled"
REVOKED = "slack tokens revoked"
# A send before any install (OAuth mode): raised by the sender, so spelled once here.
NOT_INSTALLED = "pulsecoach is not installed in this Slack workspace"
