"""Where in a YAML file a validation error points: shared by the instrument loader
and the organisation file loader, so both name the same line for the same path."""

from __future__ import annotations

from collections.abc import Iterable

import yaml


def line_of(root: yaml.Node, loc: Iterable[str | int]) -> int:
    """1-based line of the deepest node along ``loc`` (a mapping entry is its key's line)."""
    node, line = root, root.start_mark.line
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((kv for kv in node.value if str(kv[0].value) == str(part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line
        else:
            break
    return line + 1
