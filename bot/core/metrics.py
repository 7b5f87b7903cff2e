"""Prometheus metrics, on a registry of our own so tests can build many apps."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

ACTIONS = Counter(
    "pulsecoach_actions_total",
    "Clicks and commands handled, by channel and outcome.",
    ["channel", "outcome"],
    registry=REGISTRY,
)
ACTION_SECONDS = Histogram(
    "pulsecoach_action_seconds",
    "Time to handle one inbound action.",
    ["channel"],
    registry=REGISTRY,
)
OUTBOX = Counter(
    "pulsecoach_outbox_messages_total",
    "Outbox messages by final outcome of a send attempt.",
    ["channel", "outcome"],
    registry=REGISTRY,
)

ANSWER_COMMITS = Counter(
    "pulsecoach_answer_commits_total",
    "Group commits of pulse answers (each one transaction).",
    registry=REGISTRY,
)
ANSWERS_STORED = Counter(
    "pulsecoach_answers_stored_total",
    "Pulse answers stored (divided by the commits: answers per transaction).",
    registry=REGISTRY,
)
MESSAGE_UPDATES = Counter(
    "pulsecoach_message_updates_total",
    "Updates of a clicked message: sent, or superseded by a newer one before sending.",
    ["channel", "outcome"],
    registry=REGISTRY,
)


def exposition() -> bytes:
    return generate_latest(REGISTRY)
