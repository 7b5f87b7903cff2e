"""Accountability commitments: one leader's behaviour to practise, weekly check-ins.

- `commands`: commitment verbs and buttons; `drafts`: the one-line grammar and the form;
- `checkins`: Kept/Partly/Missed answers, snoozes; `schedule`: when check-ins go out;
- `follow_through`: kept rates and streaks, and contract reports (shared with digests);
- `view`: the messages.
- `feature`: the `FEATURE` the router and the scheduler are handed (its own
  module, so importing one part of the package does not import every part).
"""
