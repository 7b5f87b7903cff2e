"""Prometheus metrics, on a registry of our own so tests can build many apps."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

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


# ---------------------------------------------------------------- an operator's view
# Process figures (CPU, memory, open files, start time), the Python build and the
# garbage collector, on our registry like everything else.
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

HTTP_REQUESTS = Counter(
    "pulsecoach_http_requests_total",
    "HTTP requests by route (the matched resource's pattern) and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_SECONDS = Histogram(
    "pulsecoach_http_request_seconds",
    "Time to answer one HTTP request, by route.",
    ["route"],
    registry=REGISTRY,
)
LEADER = Gauge(
    "pulsecoach_leader",
    "1 while this process holds the scheduler lock (plans, opens, closes), else 0.",
    registry=REGISTRY,
)
LAST_DISPATCH = Gauge(
    "pulsecoach_last_dispatch_timestamp_seconds",
    "When this process last finished a dispatch pass (Unix time; 0: never).",
    registry=REGISTRY,
)
DISPATCHED = Counter(
    "pulsecoach_dispatched_total",
    "Schedule entries run by the dispatcher, by outcome (fired or failed).",
    ["outcome"],
    registry=REGISTRY,
)
SCHEDULE_DUE = Gauge(
    "pulsecoach_schedule_due",
    "Schedule entries due now and not yet run (read at scrape time).",
    registry=REGISTRY,
)
OUTBOX_DUE = Gauge(
    "pulsecoach_outbox_due",
    "Outbox messages due now and not yet sent, by channel (read at scrape time).",
    ["channel"],
    registry=REGISTRY,
)
OUTBOX_OLDEST_DUE = Gauge(
    "pulsecoach_outbox_oldest_due_seconds",
    "How long the oldest due, unsent outbox message has been due (0: none).",
    registry=REGISTRY,
)
AFTER_ACK = Gauge(
    "pulsecoach_slack_after_ack_pending",
    "Slack work acknowledged and not yet done: replies, updates and modals, most of them "
    "waiting for their method's pace. Growing steadily: Slack's limits are the bottleneck.",
    registry=REGISTRY,
)
SLACK_BOOKED = Counter(
    "pulsecoach_slack_calls_not_made_total",
    "Slack calls of work after an ack (replies, Home tabs) not made: their method's "
    "pace in the workspace was booked further ahead than a person would wait.",
    ["method"],
    registry=REGISTRY,
)
JOB_SKIPS = Counter(
    "pulsecoach_job_ticks_skipped_total",
    "Scheduler ticks skipped because the job's previous run was still going.",
    ["job"],
    registry=REGISTRY,
)
LLM_CALLS = Counter(
    "pulsecoach_llm_calls_total",
    "Calls to the language model by outcome: ok, failed (no answer), unusable "
    "(an answer set aside), skipped (the breaker is open).",
    ["outcome"],
    registry=REGISTRY,
)
LLM_FALLBACKS = Counter(
    "pulsecoach_llm_fallbacks_total",
    "Digest summaries written by the fallback instead of the model, by reason.",
    ["reason"],
    registry=REGISTRY,
)


def exposition() -> bytes:
    return generate_latest(REGISTRY)
