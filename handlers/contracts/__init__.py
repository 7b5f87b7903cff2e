"""Behavioral contracts: the team's versioned norms, acknowledgements, and anonymous
contract checks on a cadence.

- `commands`: contract verbs and buttons; `checks`: answering a check;
- `schedule`: opening and closing checks; `view`: the messages; `check_view`: a
  check's kept message (progress only) and its private form.
- `feature`: the `FEATURE` the router and the scheduler are handed (its own
  module, so importing one part of the package does not import every part).
"""
