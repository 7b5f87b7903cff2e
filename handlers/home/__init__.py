"""Home and administration: `help` and `home` (`commands`), each person's home view by
role (`view`), and the admin's program settings in chat (`admin`)."""

from handlers.context import Feature
from handlers.home import admin, commands, forget, view

FEATURE = Feature(
    name="home",
    actions={**commands.ACTIONS, **admin.ACTIONS, **view.ACTIONS, **forget.ACTIONS},
    commands={**commands.COMMANDS, **admin.COMMANDS, **view.COMMANDS, **forget.COMMANDS},
)
