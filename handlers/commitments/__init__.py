"""Accountability commitments: one leader's behaviour to practise, weekly check-ins.

- `commands`: commitment verbs and buttons; `drafts`: the one-line grammar and the form;
- `checkins`: Kept/Partly/Missed answers, snoozes; `schedule`: when check-ins go out;
- `follow_through`: kept rates and streaks, and contract reports (shared with digests);
- `view`: the messages.
"""

from handlers.commitments import commands, schedule
from handlers.context import Feature, ScheduledKind

FEATURE = Feature(
    name="commitments",
    actions=commands.ACTIONS,
    commands=commands.COMMANDS,
    home_cards=commands.home_cards,
    scheduled=(ScheduledKind(schedule.KIND, schedule.fire),),
)
