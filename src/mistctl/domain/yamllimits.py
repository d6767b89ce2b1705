"""Limits on a YAML document's node graph, checked before any Python value is built from it.

A few hundred bytes of YAML can stand for billions of values ("billion laughs": aliases of aliases),
refer to itself (`&a [*a]`), nest deeper than any walk can follow, or hold an integer thousands of
digits long. Each would hang or crash a later step (validation walks the alias-expanded tree), so the
composed graph is measured first, in one pass over its distinct nodes (never the expanded tree).

A document without anchors (no `&` anywhere in its text) is a tree: nothing is shared, so nothing
expands and nothing loops, and only its depth and integers are checked (`_tree_issues`, one visit per
collection: a 10,000-site fleet in a tenth of a second).
"""

from __future__ import annotations

import yaml

from mistctl.domain.errors import Issue

#: Nesting deeper than this is refused (a real fleet file nests about 8 deep).
MAX_DEPTH = 64
#: Aliases may add at most as many values as the file writes, or this many, whichever is more.
ALIAS_ALLOWANCE = 100_000
#: Integers longer than this (digits, sign and `_` included) are refused: Mist's numbers are 64-bit.
MAX_INT_CHARS = 20
_INT_TAG = "tag:yaml.org,2002:int"


def _children(node: yaml.Node) -> list[yaml.Node]:
    if type(node) is yaml.MappingNode:
        return [part for pair in node.value for part in pair]
    return list(node.value)  # a sequence: scalars are never walked into


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


class _Measure:
    """Expanded size and height of every distinct collection, with loops and huge integers noted.

    Scalars are leaves (size 1, height 1) and are measured where they appear, so the walk only keeps
    collections: about a third of a fleet file's nodes.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.size: dict[int, int] = {}
        self.height: dict[int, int] = {}
        self.written = 0
        self.issues: list[Issue] = []

    def run(self, root: yaml.Node) -> None:
        on_path: set[int] = set()
        stack: list[tuple[yaml.Node, bool]] = [(root, False)]
        while stack and not self.issues:
            node, done = stack.pop()
            key = id(node)
            if done:
                on_path.discard(key)
                self._finish(node)
            elif key not in self.size:
                on_path.add(key)
                stack.append((node, True))
                self._push_children(node, on_path, stack)

    def _push_children(self, node: yaml.Node, on_path: set[int], stack: list[tuple[yaml.Node, bool]]) -> None:
        for child in _children(node):
            if type(child) is yaml.ScalarNode:
                self._scalar(child)
            elif id(child) in on_path:
                message = "an alias refers to a value that contains it (a loop): write the value out instead"
                self.issues.append(Issue(self.source, "YAML", message, _line(child)))
            elif id(child) not in self.size:
                stack.append((child, False))

    def _finish(self, node: yaml.Node) -> None:
        size, height = 1, 1
        for child in _children(node):
            if type(child) is yaml.ScalarNode:
                size, height = size + 1, max(height, 2)
            else:
                size, height = size + self.size[id(child)], max(height, 1 + self.height[id(child)])
        self.size[id(node)] = min(size, 1 << 62)  # a bomb's expanded size is astronomical: cap it
        self.height[id(node)] = height
        self.written += 1

    def _scalar(self, node: yaml.Node) -> None:
        self.written += 1
        if node.tag == _INT_TAG and len(node.value) > MAX_INT_CHARS:
            digits = sum(ch.isdigit() for ch in node.value)
            message = (
                f"an integer of {digits} digits: numbers in a fleet file fit in 64 bits"
                " (quote it if it is meant as text)"
            )
            self.issues.append(Issue(self.source, "YAML", message, _line(node)))


def _tree_issues(root: yaml.Node, source: str) -> list[Issue]:
    """`graph_issues` of a document with no shared nodes, visited in the same order, in one pass."""
    measure = _Measure(source)
    deepest = 1
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack and not measure.issues:
        node, depth = stack.pop()
        height = depth
        children = (part for pair in node.value for part in pair) if type(node) is yaml.MappingNode else node.value
        for child in children:
            if type(child) is yaml.ScalarNode:
                height = depth + 1
                if child.tag == _INT_TAG and len(child.value) > MAX_INT_CHARS:
                    measure._scalar(child)
            else:
                stack.append((child, depth + 1))
        deepest = max(deepest, height)
    if measure.issues:
        return measure.issues
    return [_too_deep(source)] if deepest > MAX_DEPTH else []


def graph_issues(root: yaml.Node, source: str, *, shared: bool = True) -> list[Issue]:
    """What makes a composed document unsafe to build: loops, depth, alias fan-out, huge integers.

    `shared=False` says the document has no anchors (so no aliases): a tree, checked in one cheap pass.
    """
    measure = _Measure(source)
    if type(root) is yaml.ScalarNode:
        measure._scalar(root)
        return measure.issues
    if not shared:
        return _tree_issues(root, source)
    measure.run(root)
    if measure.issues:
        return measure.issues
    written = measure.written
    expanded = measure.size[id(root)]
    if expanded > written + max(written, ALIAS_ALLOWANCE):
        shown = "over a billion" if expanded > 10**9 else f"{expanded:,}"
        message = (
            f"aliases (*name) expand the {written:,} values written to {shown}, more than aliases may add"
            f" (as many values as the file writes, at least {ALIAS_ALLOWANCE:,}): write the values out"
            " or use fewer nested aliases"
        )
        return [Issue(source, "YAML", message)]
    if measure.height[id(root)] > MAX_DEPTH:
        return [_too_deep(source)]
    return []


def _too_deep(source: str) -> Issue:
    return Issue(source, "YAML", f"nests deeper than {MAX_DEPTH} levels: a fleet file needs far fewer; flatten it")

