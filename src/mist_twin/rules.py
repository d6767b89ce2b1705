"""The table of Mist collections the twin serves, and the few cross-object effects between them.

Sites bind templates and site groups (`sitegroup_ids`, `*template_id`); a site group's `site_ids`
is therefore computed from the sites. Deleting a site drops its setting and unassigns its devices;
deleting a site group or a device profile unbinds it. A PSK's `old_passphrase` is whatever the client
wrote (the spec lists it as a writable field; no source confirms that Mist copies the previous
passphrase there by itself), so the twin never fills it in: a rotation must send it.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from mist_twin.crud import Ops, Rule
from mist_twin.errors import bad_request
from mist_twin.store import Obj

if TYPE_CHECKING:
    from mist_twin.state import TwinState

SITE_TEMPLATE_FIELDS = (
    "rftemplate_id",
    "networktemplate_id",
    "gatewaytemplate_id",
    "aptemplate_id",
    "sitetemplate_id",
    "alarmtemplate_id",
    "secpolicy_id",
)


def _create_site_setting(twin: TwinState, site: Obj) -> None:
    now = twin.now()
    setting = {
        "id": str(uuid.uuid4()),
        "site_id": site["id"],
        "org_id": site["org_id"],
        "vars": {},
        "created_time": now,
        "modified_time": now,
    }
    twin.store.put("site_settings", site["id"], setting)


def _forget_site(twin: TwinState, site: Obj) -> None:
    twin.store.delete("site_settings", site["id"])
    now = twin.now()
    for device in twin.store.all("inventory"):
        if device.get("site_id") == site["id"]:
            unassigned = {k: v for k, v in device.items() if k != "site_id"}  # Mist omits it, never null
            twin.store.put("inventory", device["mac"], {**unassigned, "modified_time": now})


def _sitegroup_members(twin: TwinState, groups: list[Obj]) -> list[Obj]:
    members: dict[str, list[str]] = {group["id"]: [] for group in groups}
    for site in twin.store.all("sites"):
        for group_id in site.get("sitegroup_ids") or ():
            if group_id in members:
                members[group_id].append(site["id"])
    return [{**group, "site_ids": members[group["id"]]} for group in groups]


def _refuse_ambiguous_sitegroups(twin: TwinState, site: Obj) -> None:
    """Mist takes two site groups with one name, then refuses a site bound to either of them."""
    groups = twin.store.all("sitegroups")
    for group_id in site.get("sitegroup_ids") or ():
        name = next((g.get("name") for g in groups if g["id"] == group_id), None)
        if name is not None and sum(1 for g in groups if g.get("name") == name) > 1:
            raise bad_request(f"SiteGroup name '{name}' is already used")


def _unbind_sitegroup(twin: TwinState, group: Obj) -> None:
    for site in twin.store.all("sites"):
        if group["id"] in (site.get("sitegroup_ids") or ()):
            kept = [g for g in site["sitegroup_ids"] if g != group["id"]]
            twin.store.put("sites", site["id"], {**site, "sitegroup_ids": kept})


def _unbind_deviceprofile(twin: TwinState, profile: Obj) -> None:
    for device in twin.store.all("inventory"):
        if device.get("deviceprofile_id") == profile["id"]:
            twin.store.put("inventory", device["mac"], {**device, "deviceprofile_id": None})


def _keep_old_passphrase(twin: TwinState, old: Obj, new: Obj) -> None:
    """The modelled Mist keeps what the client sends; two quirks model the other plausible answers."""
    quirks = twin.quirks
    if quirks.psk_drop_sent_old:  # that Mist ignores an old_passphrase sent: only its own copy counts
        new.pop("old_passphrase", None)
        if "old_passphrase" in old:
            new["old_passphrase"] = old["old_passphrase"]
    if quirks.psk_copies_old and new.get("passphrase") != old.get("passphrase"):
        new["old_passphrase"] = old.get("passphrase")  # that Mist copies the previous passphrase by itself


def _ops(plural: str, singular: str, get: str | None = None) -> Ops:
    return Ops(f"listOrg{plural}", f"createOrg{singular}", get or f"getOrg{singular}",
               f"updateOrg{singular}", f"deleteOrg{singular}")  # fmt: skip


SITES = Rule(
    "sites", "site_id", "site",
    Ops("listOrgSites", "createOrgSite", "getSiteInfo", "updateSiteInfo", "deleteSite"),
    item_under_org=False,
    defaults={"address": "", "notes": "", "sitegroup_ids": [], **dict.fromkeys(SITE_TEMPLATE_FIELDS)},
    check=_refuse_ambiguous_sitegroups,
    after_create=_create_site_setting,
    after_delete=_forget_site,
)  # fmt: skip
SITEGROUPS = Rule(
    "sitegroups", "sitegroup_id", "site group", _ops("SiteGroups", "SiteGroup"),
    decorate=_sitegroup_members, after_delete=_unbind_sitegroup,
)  # fmt: skip
SERVICES = Rule("services", "service_id", "application", _ops("Services", "Service"))
NETWORKS = Rule("networks", "network_id", "network", _ops("Networks", "Network"))
DEVICEPROFILES = Rule(
    "deviceprofiles", "deviceprofile_id", "device profile", _ops("DeviceProfiles", "DeviceProfile"),
    filters=("type",), after_delete=_unbind_deviceprofile,
)  # fmt: skip
GATEWAYTEMPLATES = Rule(
    "gatewaytemplates", "gatewaytemplate_id", "gateway template", _ops("GatewayTemplates", "GatewayTemplate")
)
NETWORKTEMPLATES = Rule(
    "networktemplates", "networktemplate_id", "switch template", _ops("NetworkTemplates", "NetworkTemplate")
)
TEMPLATES = Rule("templates", "template_id", "WLAN template", _ops("Templates", "Template"))
RFTEMPLATES = Rule("rftemplates", "rftemplate_id", "RF template", _ops("RfTemplates", "RfTemplate"))
WLANS = Rule(
    "wlans", "wlan_id", "WLAN", _ops("Wlans", "Wlan", get="getOrgWLAN"),
    defaults={"enabled": True, "hide_ssid": False, "vlan_enabled": False, "auth": {"type": "open"}},
)  # fmt: skip
WXTAGS = Rule("wxtags", "wxtag_id", "label", _ops("WxTags", "WxTag"))
WXRULES = Rule(
    "wxrules", "wxrule_id", "WLAN policy", _ops("WxRules", "WxRule"),
    defaults={"enabled": True, "action": "allow"},
)  # fmt: skip
PSKS = Rule(
    "psks", "psk_id", "PSK", _ops("Psks", "Psk"),
    defaults={"usage": "multi", "max_usage": 0, "expire_time": None},
    filters=("name", "ssid", "role"), upsert_key="name", before_update=_keep_old_passphrase,
)  # fmt: skip

#: Every collection, in the order mistctl's workflow creates them.
RULES: tuple[Rule, ...] = (
    SITEGROUPS, SITES, SERVICES, NETWORKS, DEVICEPROFILES, GATEWAYTEMPLATES, NETWORKTEMPLATES,
    TEMPLATES, RFTEMPLATES, WLANS, WXTAGS, WXRULES, PSKS,
)  # fmt: skip
BY_COLLECTION: dict[str, Rule] = {rule.collection: rule for rule in RULES}
COLLECTIONS: tuple[str, ...] = tuple(rule.collection for rule in RULES)
