"""YAML from people, read within bounds: shared by the instrument loader and the
organisation file loader, so both refuse the same hostile or impossible input the same way.

- A file over `MAX_BYTES` is refused before it is read.
- Aliases are counted as they are composed: a document whose values, aliases expanded,
  pass `MAX_NODES` (a "billion laughs" alias bomb) is refused at the alias that crosses
  the limit, in time proportional to the file, never to its expansion. An alias inside
  the node it names (a recursive document) and nesting deeper than `MAX_DEPTH` are
  refused too: both would end in a RecursionError further on.
- A timestamp YAML recognises but the calendar does not have (``2026-02-30``,
  ``2026-12-01T25:00:00``) and text with a NUL character are `BadScalar` errors that
  carry their node, so the loader can name the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent

MAX_BYTES = 1024 * 1024  # 1 MiB: an organisation of thousands of people is far smaller
MAX_NODES = 200_000  # values in the document, aliases expanded
MAX_DEPTH = 64  # nesting of mappings and lists


class TooLarge(ValueError):
    """The file is bigger than `MAX_BYTES`; nothing of it was parsed."""

    def __init__(self, size: int) -> None:
        super().__init__(
            f"the file is {size:,} bytes, more than the limit of {MAX_BYTES:,} bytes (1 MiB)"
        )


class BadScalar(ConstructorError):
    """A scalar YAML reads but pulsecoach cannot take; `node` says where it is."""

    def __init__(self, node: yaml.Node, reason: str) -> None:
        super().__init__(None, None, reason, node.start_mark)
        self.node = node
        self.reason = reason


def read_text(path: Path) -> str:
    """The file's text, refused with `TooLarge` before reading when it is over the limit.
    Raises OSError and UnicodeDecodeError as `Path.read_text` does."""
    with path.open("rb") as file:
        data = file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise TooLarge(max(len(data), path.stat().st_size))
    return data.decode("utf-8")


def check_size(text: str) -> None:
    """`TooLarge` for text over the limit (in UTF-8 bytes), for text not read from a file."""
    if len(text) > MAX_BYTES // 4:  # only then can it be over: at most 4 bytes a character
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_BYTES:
            raise TooLarge(size)


class BoundedLoader(yaml.SafeLoader):
    """SafeLoader that counts what aliases expand to, bounds nesting, and refuses
    impossible timestamps and NUL characters as `BadScalar`."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._expanded = 0  # values composed so far, aliases counted at their full size
        self._sizes: dict[int, int] = {}  # id(node) -> its size, aliases expanded
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            node = super().compose_node(parent, index)
            size = self._sizes.get(id(node))
            if size is None:
                raise ComposerError(
                    None,
                    None,
                    f"alias *{event.anchor} is used inside the value it names",
                    event.start_mark,
                )
            self._count(size, event.start_mark, f"alias *{event.anchor}")
            return node
        start_mark = self.peek_event().start_mark
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", start_mark)
        before = self._expanded
        self._count(1, start_mark, "this value")
        node = super().compose_node(parent, index)
        self._depth -= 1
        self._sizes[id(node)] = self._expanded - before
        return node

    def _count(self, size: int, mark: yaml.Mark, what: str) -> None:
        self._expanded += size
        if self._expanded > MAX_NODES:
            raise ComposerError(
                None,
                None,
                f"{what} makes the document larger than {MAX_NODES:,} values "
                "with aliases expanded (an alias bomb?)",
                mark,
            )

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise BadScalar(node, f"{node.value!r} is not a real date or time ({exc})") from None

    def construct_scalar(self, node: Any) -> Any:
        value = super().construct_scalar(node)
        if isinstance(value, str) and "\x00" in value:
            raise BadScalar(node, "text must not contain a NUL character (\\0)")
        return value


BoundedLoader.add_constructor("tag:yaml.org,2002:timestamp", BoundedLoader.construct_yaml_timestamp)


def path_to(root: yaml.Node, target: yaml.Node) -> tuple[str | int, ...] | None:
    """Where ``target`` sits under ``root``, as a loc (mapping keys, list indexes);
    each node is visited once, so aliases cost nothing."""
    seen: set[int] = set()

    def walk(node: yaml.Node, loc: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
        if node is target:
            yield loc
            return
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key is target:
                    yield loc
                    return
                yield from walk(value, (*loc, str(key.value)))
        elif isinstance(node, yaml.SequenceNode):
            for index, child in enumerate(node.value):
                yield from walk(child, (*loc, index))

    return next(walk(root, ()), None)


def problem(exc: yaml.YAMLError, text: str) -> tuple[int | None, str]:
    """The 1-based line and the reason of a YAML error, for an error message."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        return line, f"invalid YAML: character {exc.character:#06x} is not allowed in YAML text"
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        reason = f"invalid YAML: {exc.problem or exc.context or 'cannot be parsed'}"
        if exc.problem and exc.context and exc.context_mark is not None:
            reason += f" ({exc.context} on line {exc.context_mark.line + 1})"
        return (mark.line + 1 if mark is not None else None), reason
    return None, f"invalid YAML: {exc}"
