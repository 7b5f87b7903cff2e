"""The digests feature as the router and the scheduler see it."""

from handlers.context import Feature, ScheduledKind
from handlers.digests import commands, schedule

FEATURE = Feature(
    name="digests",
    actions=commands.ACTIONS,
    commands=commands.COMMANDS,
    home_cards=commands.home_cards,
    scheduled=(ScheduledKind(schedule.KIND, schedule.fire),),
)
