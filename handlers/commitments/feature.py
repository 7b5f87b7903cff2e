"""The commitments feature as the router and the scheduler see it."""

from handlers.commitments import commands, schedule
from handlers.context import Feature, ScheduledKind

FEATURE = Feature(
    name="commitments",
    actions=commands.ACTIONS,
    commands=commands.COMMANDS,
    home_cards=commands.home_cards,
    scheduled=(ScheduledKind(schedule.KIND, schedule.fire),),
)
