"""The org-level kinds in rounds: each kind after every kind its objects name; the kinds of a round together.

The 13-step order (`kinds.ORG_KINDS`) is one order in which every object comes after the objects it names,
but it makes 12 round trips one after the other where 4 suffice. The apply needs only that an object is
written after every object it names: by id (a WLAN's `template_id`, a WLAN template's `sitegroup_ids`) or by
name (a gateway template's networks and applications, a PSK's SSID). Whether Mist itself refuses a name that
does not exist yet is not settled for every field (docs/mist-fidelity.md), so every reference of the
`domain.refs` table counts, by name or by id. What that gives:

1. site groups, applications, networks, RF templates, labels
2. hub profiles, gateway templates, switch templates, WLAN templates
3. WLANs, WLAN policies
4. PSKs

Within a round the kinds keep their step order (the order their writes start and their step events are told).
"""

from __future__ import annotations

from mistctl.domain import kinds as K
from mistctl.domain.kinds import Kind
from mistctl.domain.refs import REFS


def org_rounds() -> tuple[tuple[Kind, ...], ...]:
    """The org kinds grouped by dependency depth (a kind's round is one more than its deepest target's)."""
    org = {k.key for k in K.ORG_KINDS}
    targets: dict[str, set[str]] = {k.key: set() for k in K.ORG_KINDS}
    for ref in REFS:
        if ref.kind_key in org and ref.target_kind_key in org and ref.target_kind_key != ref.kind_key:
            targets[ref.kind_key].add(ref.target_kind_key)
    depth: dict[str, int] = {}

    def depth_of(key: str, seen: frozenset[str] = frozenset()) -> int:
        if key in seen:
            raise ValueError(f"the org kinds reference each other in a circle through {key}")
        if key not in depth:
            depth[key] = 1 + max((depth_of(t, seen | {key}) for t in targets[key]), default=-1)
        return depth[key]

    for kind in K.ORG_KINDS:
        depth_of(kind.key)
    rounds = max(depth.values()) + 1
    return tuple(tuple(k for k in K.ORG_KINDS if depth[k.key] == level) for level in range(rounds))


#: Computed once: the rounds of the org-level writes.
ORG_ROUNDS: tuple[tuple[Kind, ...], ...] = org_rounds()
