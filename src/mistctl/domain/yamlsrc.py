"""YAML text to plain data, keeping what a good error message needs: line numbers and duplicate keys.

PyYAML silently keeps the last of two equal keys; a fleet file with `vlan: 10` twice in one mapping
is a mistake worth reporting, so the loader records them. Every mapping's line is recorded by object
id, so validation can point at the line of the site or object it complains about. The composed node
graph is checked (`yamllimits`: alias fan-out, loops, depth, huge integers) before any value is built.

Speed (a 10,000-site fleet is 1.5 MB of YAML): libyaml composes the nodes, each distinct plain scalar is
resolved once per document, and `_Builder` turns the plain nodes (strings, numbers, booleans, nulls, lists
and mappings with plain keys) into values directly; anything else (merge keys `<<`, other tags) is left to
PyYAML's own constructors, so the values are exactly what `yaml.safe_load` gives. The cyclic garbage
collector is paused meanwhile (`gcpause`): the nodes and values hold no cycles, and its passes over a
growing heap cost more than the building itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from mistctl.domain.errors import FleetInvalid, Issue
from mistctl.domain.gcpause import gc_paused
from mistctl.domain.textsafe import has_control
from mistctl.domain.yamllimits import graph_issues

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class YamlDoc:
    """A parsed document: its data, the line of every mapping (by id) and the problems seen."""

    data: Any
    lines: dict[int, int] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    top_key_lines: dict[str, int] = field(default_factory=dict)  # the line of each top-level key
    # False only when no string of the document (key or value) holds a control character (textsafe.py)
    controls: bool = True

    def line_of(self, obj: Any) -> int | None:
        """The 1-based line where a mapping of this document starts, when it is one."""
        return self.lines.get(id(obj))


class _Loader(_Base):  # type: ignore[misc]
    """The safe loader, recording mapping lines and duplicate keys as it builds."""

    def __init__(self, text: str, source: str) -> None:
        super().__init__(text)
        self.source = source
        self.mapping_lines: dict[int, int] = {}
        self.duplicates: list[Issue] = []
        self.resolved: dict[str, str] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any, _resolve: Any = yaml.resolver.BaseResolver.resolve) -> Any:
        """A node's tag; a plain scalar's depends on its text alone (no path resolvers): resolved once each."""
        if kind is yaml.ScalarNode and implicit[0]:
            try:
                return self.resolved[value]
            except KeyError:
                tag = self.resolved[value] = _resolve(self, kind, value, implicit)
                return tag
        return _resolve(self, kind, value, implicit)


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Iterator[dict[Any, Any]]:
    data: dict[Any, Any] = {}
    yield data
    _check_duplicates(loader, node)
    data.update(loader.construct_mapping(node))
    loader.mapping_lines[id(data)] = node.start_mark.line + 1


def _check_duplicates(loader: _Loader, node: yaml.MappingNode) -> None:
    if not isinstance(node, yaml.MappingNode):  # `!!map [1]`: construct_mapping names the error
        return
    seen: set[str] = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
            continue
        if key_node.value in seen:
            line = key_node.start_mark.line + 1
            message = f"duplicate key '{key_node.value}': YAML would keep only the last one; remove one"
            loader.duplicates.append(Issue(loader.source, "YAML", message, line))
        seen.add(key_node.value)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)

_STR, _SEQ, _MAP = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"
_PLAIN = tuple(f"tag:yaml.org,2002:{name}" for name in ("int", "bool", "null", "float"))
_PLAIN_KEYS = frozenset((_STR, *_PLAIN))  # hashable; `<<` (merge) and `=` (value) are not among them


class _Builder:
    """Builds a composed (and checked) document as PyYAML's safe constructor would, plain nodes directly.

    Built collections are kept in the loader's own memo (`constructed_objects`), so an alias gives the
    same object whichever of the two built it, and each mapping's duplicate keys are reported once.
    `controls` stays False while no string built holds a control character (and nothing went to PyYAML).
    """

    def __init__(self, loader: _Loader) -> None:
        self.loader = loader
        self.controls = False
        self.memo: dict[yaml.Node, Any] = loader.constructed_objects
        self.scalars: dict[str, Callable[[_Loader, yaml.Node], Any]] = {
            tag: loader.yaml_constructors[tag] for tag in _PLAIN}

    def build(self, node: yaml.Node) -> Any:
        kind, tag = type(node), node.tag
        if kind is yaml.ScalarNode:
            if tag == _STR:
                if not self.controls:
                    self.controls = has_control(node.value)
                return node.value
            plain = self.scalars.get(tag)
            return plain(self.loader, node) if plain is not None else self._pyyaml(node)
        if node in self.memo:
            return self.memo[node]
        data: Any
        if kind is yaml.SequenceNode and tag == _SEQ:
            data = [self.build(child) for child in node.value]
        elif isinstance(node, yaml.MappingNode) and tag == _MAP and all(
                type(k) is yaml.ScalarNode and k.tag in _PLAIN_KEYS for k, _ in node.value):
            _check_duplicates(self.loader, node)
            data = {}
            for key, value in node.value:
                data[self.build(key)] = self.build(value)
            self.loader.mapping_lines[id(data)] = node.start_mark.line + 1
        else:
            return self._pyyaml(node)
        self.memo[node] = data
        return data

    def _pyyaml(self, node: yaml.Node) -> Any:
        self.controls = True  # its strings are not seen here
        return self.loader.construct_object(node, True)  # PyYAML's constructors (memoised there)


def load_yaml(text: str, source: str) -> YamlDoc:
    """Parse YAML text; a syntax error raises `FleetInvalid` naming the line and column."""
    loader = _Loader(text, source)
    try:
        with gc_paused():
            node = loader.get_single_node()
            if node is None:
                return YamlDoc(None)
            unsafe = graph_issues(node, source, shared="&" in text)  # no `&`: no anchors, a tree
            if unsafe:
                raise FleetInvalid(unsafe)
            builder = _Builder(loader)
            data = builder.build(node)
    except yaml.MarkedYAMLError as exc:
        raise FleetInvalid([_syntax_issue(exc, source)]) from None
    except yaml.YAMLError as exc:  # unmarked errors: name the kind only, the text may quote a secret
        raise FleetInvalid([Issue(source, "YAML", f"not valid YAML ({type(exc).__name__})")]) from None
    finally:
        loader.dispose()
    return YamlDoc(data, loader.mapping_lines, loader.duplicates, _key_lines(node), builder.controls)


def _key_lines(node: yaml.Node) -> dict[str, int]:
    """The 1-based line of each scalar key of a mapping node (the document's top level)."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}


def _syntax_issue(exc: yaml.MarkedYAMLError, source: str) -> Issue:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    column = f", column {mark.column + 1}" if mark is not None else ""
    what = exc.problem or "syntax error"
    context = f" ({exc.context})" if exc.context else ""
    message = f"YAML syntax error{column}: {what}{context}; check the indentation and quoting there"
    return Issue(source, "YAML", message, line)
