"""Behavioral contracts: the team's versioned norms, acknowledgements, and anonymous
contract checks on a cadence.

- `commands`: contract verbs and buttons; `checks`: answering a check;
- `schedule`: opening and closing checks; `view`: the messages.
"""

from handlers.context import Feature, ScheduledKind
from handlers.contracts import commands, schedule

FEATURE = Feature(
    name="contracts",
    actions=commands.ACTIONS,
    commands=commands.COMMANDS,
    home_cards=commands.home_cards,
    scheduled=(ScheduledKind(schedule.KIND, schedule.fire),),
)
