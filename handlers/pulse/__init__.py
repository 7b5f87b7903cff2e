"""Pulse surveys on psychological safety.

- `commands`: the chat verbs and buttons (answer, comment, skip, send, close, results);
- `rounds`, `outbox`, `close`: a round's life (open, fan out invites and reminders,
  close); `answers`: the answer desk that stores clicks in batches;
- `schedule`: the cadence, planned per person in their own time zone;
- `results`, `scoring`, `chart`: figures behind the thresholds; `view`: the messages.
"""

from handlers.context import Feature, FeatureJob, ScheduledKind
from handlers.pulse import close, commands, schedule

FEATURE = Feature(
    name="pulse",
    actions=commands.ACTIONS,
    commands=commands.COMMANDS,
    scheduled=(ScheduledKind(schedule.KIND, schedule.fire, schedule.fire_many),),
    jobs=(
        FeatureJob("plan-schedules", 300.0, schedule.reschedule_all),
        FeatureJob("close-rounds", 30.0, close.close_due_rounds),
    ),
)
