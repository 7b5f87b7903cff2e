"""The pulse feature as the router and the scheduler see it."""

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
