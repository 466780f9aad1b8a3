"""The one YAML loader that remembers lines: rules/ files and the access policy name file:line in errors."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml


class Lined(dict[str, Any]):
    """A YAML mapping that remembers its own line and the line of each key (1-based)."""

    line: int
    key_lines: dict[str, int]


class LinedList(list[Any]):
    """A YAML sequence that remembers the line of each item (1-based)."""

    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that keeps line numbers and leaves dates as strings (the schema checks them)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Lined:
    mapping = Lined({str(k): v for k, v in loader.construct_mapping(node, deep=True).items()})
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {k.value: k.start_mark.line + 1 for k, _ in node.value}
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LinedList:
    items = LinedList(loader.construct_sequence(node, deep=True))
    items.item_lines = [child.start_mark.line + 1 for child in node.value]
    return items


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def line_of(document: Any, path: Iterable[Any]) -> int:
    """The line of the deepest node on `path` that we can still locate."""
    line = getattr(document, "line", 1)
    node = document
    for step in path:
        if isinstance(node, Lined) and step in node:
            line = node.key_lines.get(step, line)
            node = node[step]
        elif isinstance(node, LinedList) and isinstance(step, int) and step < len(node):
            line = node.item_lines[step]
            node = node[step]
        else:
            break
    return line


def dotted(path: Iterable[Any]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "(document)"


def load(text: str | bytes) -> Any:
    """Parse one YAML document into Lined mappings and LinedList sequences (dates stay strings)."""
    return yaml.load(text, Loader=_LineLoader)
