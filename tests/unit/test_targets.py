"""Target selection (`domain/targets.py`): names and globs, kind spellings, dependencies pulled in, errors."""

from __future__ import annotations

import pytest

from mistctl.domain.fleet import Fleet
from mistctl.domain.plan import Change
from mistctl.domain.targets import headline, kind_key, select
from mistctl.errors import UserError
from mistctl.fleetio import load_fleet
from tests.support.engine import EXAMPLE


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return load_fleet(EXAMPLE)


def test_a_glob_selects_its_sites_and_what_they_use(fleet: Fleet) -> None:
    t = select(fleet, ["Store-NYC-*", "Store-BOS-002"])
    assert t is not None
    assert t.site_names == ["Store-NYC-001", "Store-BOS-002"] and t.total_sites == 20
    assert t.site_parts["Store-NYC-001"] == {"sites", "devices"}
    assert t.org["site_groups"] == {"retail-stores", "flagship"}  # outlets: no selected site is in it
    assert t.org["gateway_templates"] == {"store-spoke"} and t.org["rf_templates"] == {"store-rf"}
    assert t.org["switch_templates"] == {"store-access"}
    assert {"dc-apps", "payments"} <= t.org["applications"]  # the gateway template's service policies
    assert {"mgmt", "data", "guest"} <= t.org["networks"]  # ... and its networks, transitively
    assert not t.org.get("wlans") and not t.org.get("psks") and not t.org.get("wlan_templates")


def test_a_kind_takes_every_object_of_it_and_its_dependencies_not_the_sites(fleet: Fleet) -> None:
    t = select(fleet, kinds=["wlan"])
    assert t is not None and t.site_names == [] and t.kinds == ["wlans"]
    assert t.org["wlans"] == {"store-wifi/Store-Corp", "store-wifi/Store-Guest", "store-wifi/Store-IoT"}
    assert t.org["wlan_templates"] == {"store-wifi"}
    assert t.org["site_groups"] == {"retail-stores"}  # the template applies to it
    assert not t.org.get("networks") and not t.org.get("labels") and not t.org.get("psks")
    assert t.pulled == {"wlan_templates": {"store-wifi"}, "site_groups": {"retail-stores"}}


def test_policies_pull_their_labels_and_psks_their_wlans(fleet: Fleet) -> None:
    pol = select(fleet, kinds=["WLAN policy"])
    assert pol is not None and {"scanners", "payment-gateway"} <= pol.org["labels"]
    assert pol.org["wlan_templates"] == {"store-wifi"} and not pol.org.get("wlans")
    psk = select(fleet, kinds=["psks"])
    assert psk is not None and psk.org["wlans"] == {"store-wifi/Store-IoT"}  # by ssid
    assert psk.org["psks"] == {"handheld-scanners", "shelf-labels"}


def test_device_kind_brings_each_site_object_not_org_kinds_asked_for(fleet: Fleet) -> None:
    t = select(fleet, ["Store-NYC-001"], ["device"])
    assert t is not None and t.site_parts == {"Store-NYC-001": {"sites", "devices"}}
    site_only = select(fleet, ["Store-NYC-001"], ["site"])
    assert site_only is not None and site_only.site_parts == {"Store-NYC-001": {"sites"}}
    every = select(fleet, kinds=["sites"])
    assert every is not None and len(every.site_names) == 20


@pytest.mark.parametrize("word,key", [
    ("wlan", "wlans"), ("WLANs", "wlans"), ("wlantemplate", "wlan_templates"), ("WLAN template", "wlan_templates"),
    ("wlan_templates", "wlan_templates"), ("sitegroup", "site_groups"), ("site-groups", "site_groups"),
    ("site", "sites"), ("device", "devices"), ("wxtags", "labels"), ("site_vars", "sites"), ("claims", "devices"),
    ("hub_gateways", "hub_profiles"), ("networktemplates", "switch_templates"), ("wlan_policies", "wlan_policies"),
])
def test_the_spellings_users_see_name_a_kind(word: str, key: str) -> None:
    assert kind_key(word) == key


def test_an_unknown_kind_names_it_and_the_closest(fleet: Fleet) -> None:
    with pytest.raises(UserError, match=r"--kind 'wlna' is not a kind.*did you mean wlans\?"):
        select(fleet, kinds=["wlna"])


def test_an_unknown_site_and_an_empty_glob_name_themselves_and_the_closest(fleet: Fleet) -> None:
    with pytest.raises(UserError, match=r"'store-nyc-001' is not a site.*did you mean 'Store-NYC-001'"):
        select(fleet, ["store-nyc-001"])
    with pytest.raises(UserError, match=r"'Store-NYX-\*' matches no site.*did you mean 'Store-NYC-\*'"):
        select(fleet, ["Store-NYC-001", "Store-NYX-*"])
    with pytest.raises(UserError, match=r"'Nowhere' is not a site of the fleet file \("):
        select(fleet, ["Nowhere"])


def test_an_unknown_site_names_a_command_that_lists_the_sites(fleet: Fleet) -> None:
    # `validate` prints only counts; `ipam` prints every site of the fleet
    with pytest.raises(UserError, match=r"\(`mistctl ipam FLEET` lists its sites\)$"):
        select(fleet, ["Nowhere"])


def test_no_options_is_the_whole_fleet(fleet: Fleet) -> None:
    assert select(fleet, [], []) is None


def test_keeps_only_the_target_and_never_a_delete(fleet: Fleet) -> None:
    t = select(fleet, ["Store-NYC-001"], ["site", "wlan"])
    assert t is not None
    assert t.keeps(Change("update", 1, "sites", "Store-NYC-001", site="Store-NYC-001"))
    assert t.keeps(Change("update", 1, "site_vars", "Store-NYC-001", site="Store-NYC-001"))
    assert not t.keeps(Change("assign", 2, "devices", "Store-NYC-001", site="Store-NYC-001"))
    assert not t.keeps(Change("update", 1, "sites", "Store-BOS-002", site="Store-BOS-002"))
    assert t.keeps(Change("create", 10, "wlans", "store-wifi/Store-Corp"))
    assert not t.keeps(Change("create", 11, "labels", "scanners"))
    assert not t.keeps(Change("delete", 10, "wlans", "store-wifi/Store-Corp", phase="delete"))
    assert not t.keeps(Change("create", 2, "claims", "batch-1"))  # no device part selected
    assert not t.keeps(Change("claim", 2, "orders", "ACT-1"))
    devices = select(fleet, ["Store-NYC-001"], ["device"])
    assert devices is not None and devices.keeps(Change("claim", 2, "orders", "ACT-1"))
    assert devices.keeps(Change("claim", 2, "claims", "batch-1"))


def test_the_headline_says_it_is_not_the_whole_org(fleet: Fleet) -> None:
    t = select(fleet, ["Store-NYC-*", "Store-BOS-*"], ["site", "wlan"])
    assert t is not None
    line = headline(t.to_json())
    assert line.startswith("Targeted plan: 2 of 20 sites, kinds: sites, wlans;") and "every delete" in line


def test_a_late_binding_keeps_only_sites_that_exist_or_are_targeted(fleet: Fleet) -> None:
    t = select(fleet, ["Store-NYC-001"], ["site", "wlantemplate"])
    assert t is not None
    bind = Change("update", 8, "wlan_templates", "store-wifi", phase="bind", calls=1, body={
        "applies": {"sitegroup_ids": ["retail-stores"], "site_ids": ["Store-NYC-001", "Store-BOS-002", "Old"]}})
    trimmed = t.trim_binding(bind, live_sites={"Old"})
    assert trimmed.body["applies"] == {"sitegroup_ids": ["retail-stores"], "site_ids": ["Store-NYC-001", "Old"]}
    assert bind.body["applies"]["site_ids"] == ["Store-NYC-001", "Store-BOS-002", "Old"]  # not changed in place
