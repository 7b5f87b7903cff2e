"""Coach digests between sessions.

- `commands`: `digest`, `digests`, `session` and the coach's home card;
- `build`, `period`, `content`: the figures of a period; `summarizer`: the LLM port
  (its OpenAI adapter is in bot/llm/); `fallback`: the summary without a model;
  `hygiene`: what model output and comments lose before a coach reads them;
- `send`: store and queue a digest; `schedule`: before sessions and weekly;
- `view`, `chart`: the message and its trend chart; `sessions`: coaching sessions.
- `feature`: the `FEATURE` the router and the scheduler are handed (its own
  module, so importing one part of the package does not import every part).
"""
