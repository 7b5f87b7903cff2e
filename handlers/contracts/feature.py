"""The contracts feature as the router and the scheduler see it."""

from handlers.context import Feature, ScheduledKind
from handlers.contracts import commands, schedule

FEATURE = Feature(
    name="contracts",
    actions=commands.ACTIONS,
    commands=commands.COMMANDS,
    home_cards=commands.home_cards,
    scheduled=(ScheduledKind(schedule.KIND, schedule.fire),),
)
