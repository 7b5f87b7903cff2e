"""Home and administration: `help` and `home` (`commands`), each person's home view by
role (`view`), the admin's program settings in chat (`admin`), erasure (`forget`) and
the retention period's daily purge (`retention`)."""

from handlers.context import Feature, FeatureJob
from handlers.home import admin, commands, forget, retention, view

FEATURE = Feature(
    name="home",
    actions={**commands.ACTIONS, **admin.ACTIONS, **view.ACTIONS, **forget.ACTIONS},
    commands={**commands.COMMANDS, **admin.COMMANDS, **view.COMMANDS, **forget.COMMANDS},
    jobs=(FeatureJob("retention-purge", 86400.0, retention.purge_job),),
)
