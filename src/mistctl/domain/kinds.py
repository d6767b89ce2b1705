"""The Mist object kinds mistctl manages, in the order of the 13-step workflow.

One table shared by the domain (fleet keys), the client (Mist collection paths) and the workflow
(step numbers). Site groups have no step number of their own in the classic workflow: they are
created with the org-level objects, before the sites that bind them (step 0 here).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """One kind of Mist object: where it lives on the wire and how mistctl identifies it."""

    key: str  # the fleet file's key under `org:` (or "sites"/"devices")
    collection: str  # the Mist org collection: /api/v1/orgs/{org_id}/{collection}
    step: int  # the workflow step that converges it
    title: str  # a singular word for messages
    identity: str = "name"  # the natural key field: name, ssid (WLAN) or order (WLAN policy)
    scope: str = "org"  # "org" objects are shared; "site" objects exist per site


SITE_GROUPS = Kind("site_groups", "sitegroups", 0, "site group")
SITES = Kind("sites", "sites", 1, "site", scope="site")
DEVICES = Kind("devices", "inventory", 2, "device", identity="mac", scope="site")
APPLICATIONS = Kind("applications", "services", 3, "application")
NETWORKS = Kind("networks", "networks", 4, "network")
HUB_PROFILES = Kind("hub_profiles", "deviceprofiles", 5, "hub profile")
GATEWAY_TEMPLATES = Kind("gateway_templates", "gatewaytemplates", 6, "gateway template")
SWITCH_TEMPLATES = Kind("switch_templates", "networktemplates", 7, "switch template")
WLAN_TEMPLATES = Kind("wlan_templates", "templates", 8, "WLAN template")
RF_TEMPLATES = Kind("rf_templates", "rftemplates", 9, "RF template")
WLANS = Kind("wlans", "wlans", 10, "WLAN", identity="ssid")
LABELS = Kind("labels", "wxtags", 11, "label")
WLAN_POLICIES = Kind("wlan_policies", "wxrules", 12, "WLAN policy", identity="order")
PSKS = Kind("psks", "psks", 13, "PSK")

#: Org-level kinds in the order they must be created (each may reference the ones before it).
ORG_KINDS: tuple[Kind, ...] = (
    SITE_GROUPS,
    APPLICATIONS,
    NETWORKS,
    HUB_PROFILES,
    GATEWAY_TEMPLATES,
    SWITCH_TEMPLATES,
    WLAN_TEMPLATES,
    RF_TEMPLATES,
    WLANS,
    LABELS,
    WLAN_POLICIES,
    PSKS,
)

ALL_KINDS: tuple[Kind, ...] = (SITE_GROUPS, SITES, DEVICES, *ORG_KINDS[1:])
BY_KEY: dict[str, Kind] = {k.key: k for k in ALL_KINDS}
BY_COLLECTION: dict[str, Kind] = {k.collection: k for k in ALL_KINDS}

#: The 13 workflow steps by number, with the words the service and reports use.
STEP_NAMES: dict[int, str] = {
    1: "sites",
    2: "devices",
    3: "applications",
    4: "networks",
    5: "hub_profiles",
    6: "gateway_templates",
    7: "switch_templates",
    8: "wlan_templates",
    9: "rf_templates",
    10: "wlans",
    11: "labels",
    12: "wlan_policies",
    13: "psks",
}
TOTAL_STEPS = 13
