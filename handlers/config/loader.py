"""YAML text -> a validated `Config`, or a `ConfigError` naming the file, line and field.

Every refusal reads ``org.yaml:17: people[2].timezone: 'Europe/Berln' is not an IANA time
zone`` (list indexes count from 0, like the YAML list they point into). Lines come from
the marks of the composed YAML node tree: a pydantic ``loc`` path is walked through the
mapping and sequence nodes, and the deepest node found gives the line (for a mapping
entry, the line of its key).

Two deliberate departures from YAML 1.1 keep common values what they look like:
``9:00`` is text, not the base-60 number 540, and only ``true``/``false`` are booleans
(``locale: no`` is Norwegian, not False).

Checks that need the whole file but no database (the same key twice, two local
workspaces) happen here; checks that need the database (does this person exist?) happen
while applying, and are reported the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from handlers.config.fields import ConfigError, FieldError, Loc, format_loc
from handlers.config.schema import Config
from prompts.yaml_input import (
    BadScalar,
    BoundedLoader,
    TooLarge,
    check_size,
    path_to,
    problem,
    read_text,
)
from prompts.yaml_lines import line_of

_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"


class _Loader(BoundedLoader):
    """Bounded SafeLoader without base-60 numbers and without yes/no/on/off booleans."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL, _INT)]
    for first, resolvers in BoundedLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    _INT,
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)


_REASONS = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field",
    "string_type": "must be text",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "list_type": "must be a list",
    "timezone_aware": "must include a time zone offset, e.g. 2026-12-01T09:00:00+01:00",
    "datetime_type": "must be a date and time, e.g. 2026-12-01T09:00:00+01:00",
    "datetime_parsing": "must be a date and time, e.g. 2026-12-01T09:00:00+01:00",
    "datetime_from_date_parsing": "must be a date and time, e.g. 2026-12-01T09:00:00+01:00",
    "invalid-json-value": "must be plain text, numbers, lists or mappings",
}


@dataclass(frozen=True)
class LoadedConfig:
    """A validated file together with its YAML node tree, to point errors at lines."""

    config: Config
    root: yaml.Node
    filename: str

    def line_of(self, loc: Iterable[str | int]) -> int:
        return line_of(self.root, loc)

    def error(self, loc: Sequence[str | int], reason: str) -> ConfigError:
        return ConfigError(self.filename, self.line_of(loc), format_loc(loc) or None, reason)


def load_file(path: Path) -> LoadedConfig:
    """Read and validate a config file; errors name the path as given."""
    try:
        text = read_text(path)
    except TooLarge as exc:
        raise ConfigError(str(path), None, None, str(exc)) from None
    except UnicodeDecodeError:
        raise ConfigError(str(path), None, None, "not valid UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(str(path), None, None, f"cannot read file: {exc.strerror}") from None
    return load_text(text, str(path))


def load_text(text: str, filename: str = "<config>") -> LoadedConfig:
    """Parse and validate config text; raise `ConfigError` on the first problem in the file."""
    root, data = _parse(text, filename)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        located = [_located(error) for error in exc.errors()]
        loc, reason = min(located, key=lambda item: line_of(root, item[0]))
        if not loc:
            reason = (
                f"the file must be a mapping of sections ({', '.join(Config.model_fields)})"
                if reason == "must be a mapping"
                else reason
            )
        raise _error(filename, root, loc, reason) from None
    loaded = LoadedConfig(config, root, filename)
    try:
        _check_whole_file(loaded)
    except FieldError as exc:
        raise loaded.error(exc.loc, exc.reason) from None
    return loaded


def _error(filename: str, root: yaml.Node, loc: Loc, reason: str) -> ConfigError:
    return ConfigError(filename, line_of(root, loc), format_loc(loc) or None, reason)


def _parse(text: str, filename: str) -> tuple[yaml.Node, object]:
    try:
        check_size(text)
    except TooLarge as exc:
        raise ConfigError(filename, None, None, str(exc)) from None
    root: yaml.Node | None = None
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        root = loader.get_single_node()
        if root is None:
            raise ConfigError(filename, 1, None, "the file is empty")
        _check_duplicate_keys(filename, root)
        return root, loader.construct_document(root)
    except BadScalar as exc:
        loc = path_to(root, exc.node) if root is not None else None
        line = exc.node.start_mark.line + 1
        raise ConfigError(filename, line, format_loc(loc or ()) or None, exc.reason) from None
    except yaml.YAMLError as exc:
        line, reason = problem(exc, text)
        raise ConfigError(filename, line, None, reason) from None
    finally:
        if loader is not None:
            loader.dispose()


def _check_duplicate_keys(filename: str, node: yaml.Node, loc: Loc = ()) -> None:
    """PyYAML silently keeps the last of two equal keys: refuse that instead."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value)
            line = key.start_mark.line + 1
            if name in seen:
                where = format_loc((*loc, name))
                raise ConfigError(filename, line, where, f"key appears twice (line {seen[name]})")
            seen[name] = line
            _check_duplicate_keys(filename, value, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            _check_duplicate_keys(filename, child, (*loc, index))


def _located(error: ErrorDetails) -> tuple[Loc, str]:
    """The place and the reason of one pydantic error, in the file's terms."""
    loc: Loc = tuple(part for part in error["loc"] if part != "[key]")
    ctx = error.get("ctx") or {}
    kind = error["type"]
    cause = ctx.get("error")
    if kind == "value_error" and isinstance(cause, FieldError):
        return loc + cause.loc, cause.reason
    if kind == "value_error" and isinstance(cause, ValueError):
        return loc, str(cause)
    if kind == "literal_error":
        return loc, f"{error['input']!r} is not one of {ctx.get('expected')}"
    if kind == "extra_forbidden" and len(loc) == 1:
        return loc, f"unknown section (expected {', '.join(Config.model_fields)})"
    return loc, _REASONS.get(kind, error["msg"])


def _check_whole_file(loaded: LoadedConfig) -> None:
    """Checks across entries: keys defined twice, two local workspaces, two workspaces
    for one Slack team or Teams tenant."""
    config = loaded.config

    def first(loc: Loc) -> str:
        return f"line {loaded.line_of(loc)}"

    workspaces: dict[str, int] = {}
    external: dict[tuple[str, str], int] = {}
    local: int | None = None
    for index, workspace in enumerate(config.workspaces):
        if workspace.key in workspaces:
            other = ("workspaces", workspaces[workspace.key], "key")
            raise FieldError(
                ("workspaces", index, "key"),
                f"workspace {workspace.key!r} is defined twice (first on {first(other)})",
            )
        workspaces[workspace.key] = index
        if workspace.channel == "local":
            if local is not None:
                other_key = config.workspaces[local].key
                raise FieldError(
                    ("workspaces", index, "channel"),
                    f"only one local workspace is allowed ({other_key!r} is local, "
                    f"{first(('workspaces', local, 'channel'))})",
                )
            local = index
        ident: tuple[str, str] = (workspace.channel, workspace.effective_external_id)
        if ident in external:
            other_key = config.workspaces[external[ident]].key
            raise FieldError(
                ("workspaces", index, "external_id"),
                f"{workspace.channel} workspace {ident[1]!r} is already {other_key!r} "
                f"({first(('workspaces', external[ident], 'key'))})",
            )
        external[ident] = index

    people: dict[tuple[str, str], int] = {}
    for index, person in enumerate(config.people):
        ident = (person.workspace, person.handle)
        if ident in people:
            raise FieldError(
                ("people", index, "handle"),
                f"person {person.handle!r} is defined twice in workspace {person.workspace!r} "
                f"(first on {first(('people', people[ident], 'handle'))})",
            )
        people[ident] = index

    teams: dict[tuple[str, str], int] = {}
    for index, team in enumerate(config.teams):
        ident = (team.workspace, team.key)
        if ident in teams:
            raise FieldError(
                ("teams", index, "key"),
                f"team {team.key!r} is defined twice in workspace {team.workspace!r} "
                f"(first on {first(('teams', teams[ident], 'key'))})",
            )
        teams[ident] = index
