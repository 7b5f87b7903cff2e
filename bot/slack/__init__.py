"""The Slack channel: every slack_bolt and slack_sdk import of pulsecoach lives here."""
