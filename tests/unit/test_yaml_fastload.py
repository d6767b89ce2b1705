"""The fleet's YAML loader builds plain nodes itself (yamlsrc._Builder) and checks anchor-free documents in
one tree pass (yamllimits._tree_issues): its values, errors and limits must be PyYAML's and the graph
check's, whatever the document holds; control characters are still found when the strings are skipped."""

from __future__ import annotations

import gc

import pytest
import yaml

from mistctl.domain.errors import FleetInvalid
from mistctl.domain.parse import parse_fleet
from mistctl.domain.yamllimits import graph_issues
from mistctl.domain.yamlsrc import load_yaml

DOCS = [
    "a: &x {b: 1, c: [1, 2]}\nd: *x\ne:\n  <<: *x\n  c: 3\n",
    "a: &x {b: 1}\nl: &y {z: 2}\ne:\n  <<: [*x, *y]\n  =: 4\n",
    "a: !!set {x, y}\nb: !!omap [{a: 1}, {b: 2}]\nc: !!binary aGVsbG8=\nd: 2001-12-14\n"
    "e: 2001-12-14t21:59:43.10-05:00\nf: !!str 12\ng: 0x1F\nh: 1_000\ni: .inf\nj: ~\nk: yes\nl: 'yes'\nm: 1:30\n",
    "1: a\ntrue: b\nnull: c\n1.5: d\n'2': e\n",
    "- [a, b]\n- {x: y}\n- \"q\\ttab\"\n- |\n  block\n  text\n",
    "just a scalar\n",
    "x: &s [1, 2]\ny: *s\nz: {<<: {p: 1}, q: *s}\n",
    "a: &n {b: {c: 1}}\nm:\n  <<: *n\nq: *n\n",
    "a: {}\nb: []\nc: ''\nd: 'R&D'\n",
]
REFUSED = ["? [a]\n: e\n", "{a: 1}: 3\n", "a: !custom x\n", "a: !!seq x\n", "a: !!python/object:os.system {}\n",
           "a: !!map [1]\n"]


@pytest.mark.parametrize("text", DOCS)
def test_values_are_what_pyyaml_safe_load_gives(text: str) -> None:
    doc = load_yaml(text, "f.yaml")
    assert doc.data == yaml.safe_load(text)
    assert doc.issues == []


@pytest.mark.parametrize("text", REFUSED)
def test_what_pyyaml_refuses_is_refused_as_a_yaml_error_with_its_line(text: str) -> None:
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load(text)
    with pytest.raises(FleetInvalid) as caught:
        load_yaml(text, "f.yaml")
    issue = caught.value.issues[0]
    assert issue.item == "YAML" and "YAML syntax error" in issue.message and issue.line == 1


def test_every_mapping_has_its_line_and_an_alias_is_the_same_object() -> None:
    doc = load_yaml("top: &t\n  a: 1\nother:\n  b: {c: 2}\nagain: *t\nmerged:\n  <<: *t\n  d: 4\n", "f.yaml")
    data = doc.data
    assert data["again"] is data["top"]
    assert [doc.line_of(data[k]) for k in ("top", "other", "merged")] == [1, 4, 7]  # an anchor starts its node
    assert doc.line_of(data["other"]["b"]) == 4 and doc.line_of(data) == 1
    assert data["merged"] == {"a": 1, "d": 4}


def test_a_duplicate_key_is_reported_once_even_in_a_mapping_reached_twice() -> None:
    doc = load_yaml("a: &n {b: {c: 1, c: 2}}\nm:\n  <<: *n\nq: *n\nz: 1\nz: 2\n", "f.yaml")
    found = sorted((i.line, i.message.split(":")[0]) for i in doc.issues)
    assert found == [(1, "duplicate key 'c'"), (6, "duplicate key 'z'")]


@pytest.mark.parametrize("depth", [62, 63, 64, 65])
@pytest.mark.parametrize("leaf", ["", "1"])
def test_the_tree_pass_refuses_exactly_what_the_graph_pass_refuses(depth: int, leaf: str) -> None:
    text = "a: " + "[" * depth + leaf + "]" * depth + "\nb: [" + "1" * 25 * (depth % 2) + "]\n"
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    tree, graph = graph_issues(node, "f.yaml", shared=False), graph_issues(node, "f.yaml")
    assert tree == graph
    assert any("nests deeper" in i.message or "an integer of 25" in i.message for i in graph) == (
        depth + 1 + bool(leaf) > 64 or depth % 2 == 1)


def test_an_anchored_document_is_still_measured_as_a_graph() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdef", "bcdefg", strict=True))
    with pytest.raises(FleetInvalid, match="aliases"):
        load_yaml(bomb, "f.yaml")


BASE = "ip_plan:\n  segments: [{name: mgmt, vlan: 10, prefix: 24}]\n  zone_prefix: 12\n  site_prefix: 22\n" \
       "zones: [{id: 1, name: east}]\n"


@pytest.mark.parametrize("sites", [
    'sites: [{name: "s\\e[2J", zone: 1, number: 1}]\n',  # an escape: the text itself holds no control char
    "site_defaults: &d {notes: \"n\\a\"}\nsites: [{<<: *d, name: s1, zone: 1, number: 1}]\n",  # built by PyYAML
    "org:\n  site_groups: [{name: \"g\\x07\"}]\nsites: [{name: s1, zone: 1, number: 1}]\n",
])
def test_control_characters_are_found_wherever_the_document_holds_them(sites: str) -> None:
    with pytest.raises(FleetInvalid) as caught:
        parse_fleet(BASE + sites, source="f.yaml")
    assert any("control character" in i.message for i in caught.value.issues)


def test_a_csv_row_is_checked_for_control_characters_though_the_document_is_clean() -> None:
    csv = "#name,zone,number\nStore-\u202e1,1,1\n"
    with pytest.raises(FleetInvalid) as caught:
        parse_fleet(BASE + "sites: sites.csv\n", source="f.yaml", read_file=lambda _name: csv)
    assert [i.item for i in caught.value.issues if "control character" in i.message] == ["site 'Store-\\u202e1'.name"]


def test_the_garbage_collector_is_back_on_after_a_parse_and_after_a_refusal() -> None:
    parse_fleet(BASE + "sites: [{name: s1, zone: 1, number: 1}]\n")
    assert gc.isenabled()
    with pytest.raises(FleetInvalid):
        parse_fleet(BASE + "sites: [{name: s1, zone: 1, numbr: 1}]\n")
    assert gc.isenabled()
    gc.disable()
    try:
        parse_fleet(BASE + "sites: [{name: s1, zone: 1, number: 1}]\n")
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()

