"""Pulse surveys on psychological safety.

- `commands`: the chat verbs and buttons (answer, comment, skip, send, close, results);
- `rounds`, `outbox`, `close`: a round's life (open, fan out invites and reminders,
  close); `answers`: the answer desk that stores clicks in batches;
- `schedule`: the cadence, planned per person in their own time zone;
- `results`, `scoring`, `chart`: figures behind the thresholds; `view`: the messages.
- `feature`: the `FEATURE` the router and the scheduler are handed (its own
  module, so importing one part of the package does not import every part).
"""
