"""Targeted runs: `--site NAME|GLOB` and `--kind KIND` pick part of a fleet, plus what that part depends on.

A target names sites (exact names or shell-style globs: `Store-NYC-*`) and kinds (any spelling the user
sees: `wlan`, `WLANs`, `wlan_templates`, `wlantemplate`, `sitegroup`, the Mist collection `wxtags`...).
The selection is:

* per site part: each selected site's object and variables (kind `site`) and its devices (kind `device`),
  for every site of the fleet when only kinds are given;
* org objects of the kinds asked for (shared by every site: `--kind wlan` takes every WLAN);
* and, transitively, what those depend on (`domain/refs.py`): a site its gateway/switch/RF templates and
  site groups, a device its site, a WLAN its template, a policy its template and labels, a template its
  networks and applications, a PSK its WLANs. A WLAN template's `applies_to` is a binding, not a
  dependency: `--kind wlantemplate` does not pull every site in.

Unknown names, globs that match nothing and unknown kinds are `UserError`s naming them, with the closest
spellings. A targeted plan never deletes: deletes belong to a whole-fleet plan.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any

from mistctl.domain import kinds as K
from mistctl.domain.devices_diff import DEVICE_NAMES, HUB_GATEWAYS, ORDERS
from mistctl.domain.fleet import Fleet
from mistctl.domain.plan import Change
from mistctl.domain.refs import identity, ref_values, reference_name, refs_of
from mistctl.errors import UserError

SITE_PARTS = frozenset({K.SITES.key, K.DEVICES.key})
#: Plan-table kinds that belong to a selectable kind.
PART_OF: dict[str, str] = {"site_vars": K.SITES.key, "claims": K.DEVICES.key, ORDERS: K.DEVICES.key,
                           DEVICE_NAMES: K.DEVICES.key, HUB_GATEWAYS: K.HUB_PROFILES.key}


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _spellings() -> dict[str, str]:
    names: dict[str, str] = {}
    for kind in K.ALL_KINDS:
        for word in (kind.key, kind.title, kind.collection, f"{kind.title}s"):
            names.setdefault(_norm(word), kind.key)
    names.update({_norm("wlan policies"): K.WLAN_POLICIES.key, _norm("policy"): K.WLAN_POLICIES.key})
    for part, kind_key in PART_OF.items():
        names.setdefault(_norm(part), kind_key)
    return names


SPELLINGS = _spellings()


def kind_key(word: str) -> str:
    """The kind key a user's spelling names; a `UserError` with the closest kinds when none."""
    found = SPELLINGS.get(_norm(word))
    if found is not None:
        return found
    close = difflib.get_close_matches(_norm(word), list(SPELLINGS), n=3, cutoff=0.6)
    hint = {SPELLINGS[c] for c in close}
    did = f"; did you mean {', '.join(sorted(hint))}?" if hint else ""
    known = ", ".join(k.key for k in K.ALL_KINDS)
    raise UserError(f"--kind {word!r} is not a kind mistctl plans{did} (kinds: {known})")


def match_sites(patterns: Sequence[str], names: Sequence[str]) -> list[str]:
    """The fleet's sites the names/globs select, in fleet order; a `UserError` naming one that selects none."""
    chosen: set[str] = set()
    for pattern in patterns:
        hits = [n for n in names if fnmatchcase(n, pattern)]
        if not hits:
            raise UserError(_no_site(pattern, names))
        chosen.update(hits)
    return [n for n in names if n in chosen]


def _no_site(pattern: str, names: Sequence[str]) -> str:
    glob = any(c in pattern for c in "*?[")
    close = [n for n in names if fnmatchcase(n.lower(), pattern.lower())][:3]
    if not close and glob:
        stem = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
        stems = difflib.get_close_matches(stem, sorted({n[:len(stem)] for n in names}), n=3, cutoff=0.6)
        close = [f"{s}{pattern[len(stem):]}" for s in stems]
    close = close or difflib.get_close_matches(pattern, list(names), n=3, cutoff=0.6)
    what = "matches no site" if glob else "is not a site"
    did = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"--site {pattern!r} {what} of the fleet file{did} (`mistctl ipam FLEET` lists its sites)"


@dataclass
class Target:
    """What a targeted plan covers: the patterns and kinds asked for, and the objects they select."""

    sites: list[str]  # the --site names/globs as given
    kinds: list[str]  # the --kind kind keys
    site_names: list[str]  # the fleet's sites in the selection, in fleet order
    site_parts: dict[str, set[str]]  # site -> its parts selected ("sites", "devices")
    org: dict[str, set[str]] = field(default_factory=dict)  # kind key -> natural keys selected
    total_sites: int = 0
    pulled: dict[str, set[str]] = field(default_factory=dict)  # kind key -> keys pulled in as dependencies

    def keeps(self, change: Change) -> bool:
        """True when a plan change is inside the target (deletes never are)."""
        if change.action == "delete":
            return False
        kind = PART_OF.get(change.kind, change.kind)
        if change.kind in ("claims", ORDERS) and change.site is None:  # batched for the sites planned
            return any(K.DEVICES.key in parts for parts in self.site_parts.values())
        if change.site is not None:
            return kind in self.site_parts.get(change.site, set())
        if change.kind == HUB_GATEWAYS:
            return change.key in self.org.get(K.HUB_PROFILES.key, set())
        return change.key in self.org.get(kind, set())

    def trim_binding(self, change: Change, live_sites: set[str]) -> Change:
        """A WLAN template's late binding without the sites neither live nor in the target (a targeted run
        creates no other site: binding one would fail; the next whole-fleet apply binds them)."""
        applies = change.body.get("applies")
        if change.phase != "bind" or not isinstance(applies, dict) or not isinstance(applies.get("site_ids"), list):
            return change
        kept = [n for n in applies["site_ids"] if n in live_sites or n in self.site_parts]
        return replace(change, body={**change.body, "applies": {**applies, "site_ids": kept}})

    def to_json(self) -> dict[str, Any]:
        """What a saved plan records (and `apply PLAN` re-selects)."""
        return {"sites": list(self.sites), "kinds": list(self.kinds), "site_names": list(self.site_names),
                "total_sites": self.total_sites, "pulled": sum(len(v) for v in self.pulled.values()),
                "org": {k: sorted(v) for k, v in sorted(self.org.items())}}


def headline(target: Mapping[str, Any]) -> str:
    """`Targeted plan: 2 of 20 sites, kinds: wlans, wlan_templates; ...` from a plan's recorded target."""
    kinds = ", ".join(target.get("kinds") or []) or "all"
    deps = int(target.get("pulled") or 0)
    tail = f"; {deps} object(s) pulled in as dependencies" if deps else ""
    return (f"Targeted plan: {len(target.get('site_names') or [])} of {target.get('total_sites')} sites, "
            f"kinds: {kinds}{tail}. Not the whole org: other objects, and every delete, are left out.")


def select(fleet: Fleet, sites: Sequence[str] = (), kinds: Sequence[str] = ()) -> Target | None:
    """The target of `--site`/`--kind` (None when neither is given: the whole fleet)."""
    if not sites and not kinds:
        return None
    kind_keys = list(dict.fromkeys(kind_key(k) for k in kinds))
    names = [s.name for s in fleet.sites]
    chosen = match_sites(sites, names) if sites else (names if not kinds or SITE_PARTS & set(kind_keys) else [])
    parts = SITE_PARTS & set(kind_keys) if kinds else set(SITE_PARTS)
    site_parts = {n: set(parts) for n in chosen if parts}
    entries = {kind.key: list(getattr(fleet.org, kind.key)) for kind in K.ORG_KINDS}
    roots: dict[str, set[str]] = {k: {_key(k, e) for e in entries[k]} - {""} for k in kind_keys if k in entries}
    target = Target(list(sites), kind_keys, [], site_parts, total_sites=len(names))
    by_name = {s.name: s for s in fleet.sites}
    for name in list(site_parts):  # a device needs its site, a site its templates and groups
        site_parts[name].add(K.SITES.key)
        _pull("sites", by_name[name].model_dump(mode="json"), entries, roots, target)
    _close(entries, roots, target)
    target.org = roots
    target.site_names = [n for n in names if n in site_parts]
    return target


def _key(kind_key: str, entry: Mapping[str, Any]) -> str:
    return identity(kind_key, entry) or ""


def _close(entries: Mapping[str, list[dict[str, Any]]], roots: dict[str, set[str]], target: Target) -> None:
    """Add the dependencies of every selected org object, until nothing new comes in."""
    todo = [(k, e) for k, keys in roots.items() for e in entries[k] if _key(k, e) in keys]
    while todo:
        kind_key_, entry = todo.pop()
        todo.extend(_pull(kind_key_, entry, entries, roots, target))


def _pull(kind_key_: str, entry: Mapping[str, Any], entries: Mapping[str, list[dict[str, Any]]],
          roots: dict[str, set[str]], target: Target) -> list[tuple[str, dict[str, Any]]]:
    """Select what one object references (but not the sites a WLAN template applies to); the newly selected."""
    added: list[tuple[str, dict[str, Any]]] = []
    for ref in refs_of(kind_key_):
        if ref.target_kind_key == K.SITES.key:
            continue  # a binding: the template can exist before its sites
        wanted = set(ref_values(entry, ref))
        for candidate in entries.get(ref.target_kind_key, []):
            if reference_name(ref.target_kind_key, candidate) not in wanted:
                continue
            key = _key(ref.target_kind_key, candidate)
            have = roots.setdefault(ref.target_kind_key, set())
            if key and key not in have:
                have.add(key)
                target.pulled.setdefault(ref.target_kind_key, set()).add(key)
                added.append((ref.target_kind_key, candidate))
    return added


def target_for(fleet: Fleet, saved: Mapping[str, Any] | None, sites: Sequence[str],
               kinds: Sequence[str]) -> Target | None:
    """The target of an apply: the one asked for, or the one a saved plan recorded (the same, when both)."""
    recorded = (saved or {}).get("target")
    if recorded is None:
        if saved is not None and (sites or kinds):
            raise UserError("the saved plan covers the whole fleet; --site/--kind (sites/kinds) go with a fleet "
                            "(or save a targeted plan: `mistctl plan FLEET --site ... --out plan.json`)")
        return select(fleet, sites, kinds)
    if not isinstance(recorded, Mapping):
        raise UserError("the saved plan's target is malformed: make the plan again")
    given = select(fleet, sites, kinds)
    chosen = select(fleet, list(recorded.get("sites") or []), list(recorded.get("kinds") or []))
    if given is not None and (chosen is None or given.to_json() != chosen.to_json()):
        raise UserError("the saved plan was made for another target: apply it without --site/--kind (sites/kinds)")
    return chosen
