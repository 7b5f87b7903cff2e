"""Coach digests between sessions.

- `commands`: `digest`, `digests`, `session` and the coach's home card;
- `build`, `period`, `content`: the figures of a period; `summarizer`: the LLM port
  (its OpenAI adapter is in bot/llm/); `fallback`: the summary without a model;
  `hygiene`: what model output and comments lose before a coach reads them;
- `send`: store and queue a digest; `schedule`: before sessions and weekly;
- `view`, `chart`: the message and its trend chart; `sessions`: coaching sessions.
"""

from handlers.context import Feature, ScheduledKind
from handlers.digests import commands, schedule

FEATURE = Feature(
    name="digests",
    actions=commands.ACTIONS,
    commands=commands.COMMANDS,
    home_cards=commands.home_cards,
    scheduled=(ScheduledKind(schedule.KIND, schedule.fire),),
)
