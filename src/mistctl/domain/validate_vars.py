"""Every `{{variable}}` an org object uses must be defined at every site the object reaches.

Reach: a gateway, switch or RF template reaches the sites naming it; a WLAN template the sites of
its `applies_to` (sites and site groups); a WLAN or WLAN policy its template's sites; a network or
application the sites of the templates that name it; a PSK the sites of the WLANs with its ssid.
Hub profiles, labels and site groups are not checked: which site renders them is not in the fleet.
A site defines the planned variables (the same names everywhere) and its own `vars`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from mistctl.domain import kinds as K
from mistctl.domain.errors import Issue
from mistctl.domain.fleet import IpPlanSpec, OrgDesign, Site
from mistctl.domain.ipplan import planned_names
from mistctl.domain.origins import Origins
from mistctl.domain.refs import REFS, describe, identity, local_names, ref_values
from mistctl.domain.variables import find_variables

_SHOWN = 3  # site names quoted in one message


class Reach:
    """Which sites (by index) each org object reaches."""

    def __init__(self, org: OrgDesign, sites: Sequence[Site]) -> None:
        self.by: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
        for i, site in enumerate(sites):
            for kind_key, name in (
                ("gateway_templates", site.gateway_template),
                ("switch_templates", site.switch_template),
                ("rf_templates", site.rf_template),
            ):
                if name:
                    self.by[kind_key][name].add(i)
        self._wlan_templates(org, sites)
        self._through_templates(org)
        self._wlans(org)

    def _wlans(self, org: OrgDesign) -> None:
        templates = self.by[K.WLAN_TEMPLATES.key]
        ssids: dict[str, set[int]] = defaultdict(set)
        for wlan in org.wlans:
            reached = templates.get(str(wlan.get("template")), set())
            self.by[K.WLANS.key][str(identity(K.WLANS.key, wlan))] |= reached
            ssids[str(wlan.get("ssid"))] |= reached
        for psk in org.psks:
            self.by[K.PSKS.key][str(psk.get("name"))] = set(ssids.get(str(psk.get("ssid")), set()))

    def _wlan_templates(self, org: OrgDesign, sites: Sequence[Site]) -> None:
        index = {s.name: i for i, s in enumerate(sites)}
        groups: dict[str, set[int]] = defaultdict(set)
        for i, site in enumerate(sites):
            for group in site.site_groups:
                groups[group].add(i)
        for template in org.wlan_templates:
            applies = template.get("applies_to")
            applies = applies if isinstance(applies, dict) else {}  # a bad shape is validate_org's to report
            reached = {index[n] for n in _names(applies.get("sites")) if n in index}
            for group in _names(applies.get("site_groups")):
                reached |= groups.get(group, set())
            self.by[K.WLAN_TEMPLATES.key][str(template.get("name"))] = reached

    def _through_templates(self, org: OrgDesign) -> None:
        # Networks and applications reach the sites of the templates that name them.
        for ref in REFS:
            if ref.kind_key not in ("gateway_templates", "switch_templates"):
                continue
            if ref.target_kind_key not in ("networks", "applications"):
                continue
            for obj in org.objects(ref.kind_key):
                reached = self.by[ref.kind_key].get(str(obj.get("name")), set())
                local = local_names(obj, ref)  # a switch template's own networks are not org networks
                for name in ref_values(obj, ref):
                    if name not in local:
                        self.by[ref.target_kind_key][name] |= reached

    def of(self, kind_key: str, obj: dict[str, Any]) -> set[int]:
        """The sites an object reaches (empty for kinds that are not site-rendered)."""
        if kind_key == K.WLAN_POLICIES.key:
            return set(self.by[K.WLAN_TEMPLATES.key].get(str(obj.get("template")), set()))
        key = identity(kind_key, obj) if kind_key == K.WLANS.key else obj.get("name")
        return set(self.by.get(kind_key, {}).get(str(key), set()))


def _names(value: Any) -> list[str]:
    return [n for n in value if isinstance(n, str)] if isinstance(value, list) else []


def check_variables(
    org: OrgDesign, sites: Sequence[Site], plan: IpPlanSpec | None, origins: Origins
) -> list[Issue]:
    """Variables an org object uses but some site it reaches lacks: one issue per object and variable.

    A plan-less site (no zone and number) defines only its own `vars`.
    """
    planned = frozenset(planned_names(plan)) if plan is not None else frozenset()
    planless = any(not s.placed for s in sites)
    reach: Reach | None = None
    issues: list[Issue] = []
    for kind in K.ORG_KINDS:
        for i, obj in enumerate(org.objects(kind.key)):
            used = find_variables(obj) if planless else find_variables(obj) - planned
            if not used:
                continue
            reach = reach or Reach(org, sites)
            reached = sorted(reach.of(kind.key, obj))
            for var in sorted(used):
                missing = [sites[j].name for j in reached if not _defines(sites[j], var, planned)]
                if missing:
                    item = describe(kind.key, obj, i)
                    issues.append(
                        Issue.at(origins.of_object(kind.key, i), item, _message(var, missing, len(reached)))
                    )
    return issues


def _defines(site: Site, var: str, planned: frozenset[str]) -> bool:
    return var in site.vars or (site.placed and var in planned)


def _message(var: str, missing: list[str], reached: int) -> str:
    shown = ", ".join(missing[:_SHOWN]) + (", ..." if len(missing) > _SHOWN else "")
    return (
        f"uses {{{{{var}}}}}, which is not defined for {len(missing)} of the {reached} sites it reaches"
        f" ({shown}): define it in their vars or in site_defaults.vars"
    )
