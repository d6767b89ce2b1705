"""`plan --detail` rendering (`cli/plan_detail.py`): dotted paths, readable lists, secrets as fingerprints."""

from __future__ import annotations

import json

import pytest

from mistctl.cli.plan_detail import detail_json, detail_lines, fingerprinter, flatten
from mistctl.domain.plan import Change, Plan

ORG = "0b5d0c1e-0000-4000-8000-00000000abcd"
PSK_OLD, PSK_NEW = "old-corp-passphrase-1", "new-corp-passphrase-2"
RADIUS = "radius-shared-secret-9"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISTCTL_FINGERPRINT_KEY", "k" * 40)


def _plan(*changes: Change) -> Plan:
    return Plan(org_id=ORG, fleet_hash="h", live_fingerprint="f", changes=list(changes))


def _wlan_update() -> Change:
    old = {"type": "psk", "psk": PSK_OLD, "pairwise": ["wpa2-ccmp"]}
    new = {"type": "psk", "psk": PSK_NEW, "pairwise": ["wpa2-ccmp", "wpa3"]}
    return Change("update", 10, "wlans", "store-wifi/Store-Corp", mist_id="w1", body={"auth": new},
                  diff={"auth": [old, new], "vlan_id": ["20", "21"]}, calls=1)


def test_an_update_lists_each_changed_leaf_with_before_and_after_and_no_secret() -> None:
    fp = fingerprinter(ORG)
    lines = detail_lines(_plan(_wlan_update()), fp, {})
    text = "\n".join(lines)
    assert "~ update wlans store-wifi/Store-Corp" in lines[0]
    assert f"auth.psk: {fp(PSK_OLD)} -> {fp(PSK_NEW)}" in text
    assert 'auth.pairwise: ["wpa2-ccmp"] -> ["wpa2-ccmp", "wpa3"]' in text
    assert 'vlan_id: "20" -> "21"' in text
    assert "auth.type" not in text  # unchanged leaves are not listed
    assert PSK_OLD not in text and PSK_NEW not in text
    assert fp(PSK_OLD) != fp(PSK_NEW) and fp(PSK_OLD).startswith("fingerprint:")


def test_a_create_shows_every_value_a_delete_what_goes_away_secrets_hidden() -> None:
    fp = fingerprinter(ORG)
    psk = Change("create", 13, "psks", "scanners", body={"name": "scanners", "passphrase": PSK_NEW, "ssid": "IoT"},
                 calls=1)
    tmpl = Change("create", 6, "gateway_templates", "spoke", calls=1, body={
        "name": "spoke", "radius_config": {"auth_servers": [{"host": "10.0.0.5", "secret": RADIUS}]}})
    gone = Change("delete", 10, "wlans", "store-wifi/Old", mist_id="w9", phase="delete", calls=1)
    live = {"w9": {"id": "w9", "org_id": ORG, "ssid": "Old", "auth": {"type": "psk", "psk": PSK_OLD}}}
    text = "\n".join(detail_lines(_plan(psk, tmpl, gone), fp, live))
    assert f"passphrase: {fp(PSK_NEW)}" in text and 'ssid: "IoT"' in text
    assert 'radius_config.auth_servers[0].host: "10.0.0.5"' in text
    assert f"radius_config.auth_servers[0].secret: {fp(RADIUS)}" in text
    assert "- delete wlans store-wifi/Old" in text and 'ssid: "Old" (deleted)' in text
    assert f"auth.psk: {fp(PSK_OLD)} (deleted)" in text and "org_id" not in text
    for secret in (PSK_OLD, PSK_NEW, RADIUS):
        assert secret not in text


def test_json_detail_carries_before_and_after_without_secrets() -> None:
    fp = fingerprinter(ORG)
    rows = detail_json(_plan(_wlan_update()), fp, {})
    dumped = json.dumps(rows)
    assert {"path": "auth.pairwise", "before": ["wpa2-ccmp"], "after": ["wpa2-ccmp", "wpa3"]} in rows[0]
    assert {"path": "auth.psk", "before": fp(PSK_OLD), "after": fp(PSK_NEW)} in rows[0]
    assert PSK_OLD not in dumped and PSK_NEW not in dumped


def test_hostile_text_is_shown_escaped() -> None:
    fp = fingerprinter(ORG)
    evil = "x\x1b]0;pwned\x07\x1b[2J"
    change = Change("create", 11, "labels", evil, body={"name": evil, "values": [evil]}, calls=1)
    text = "\n".join(detail_lines(_plan(change), fp, {}))
    assert "\x1b" not in text and "\x07" not in text
    assert "pwned" in text  # shown, escaped


def test_secret_lists_and_key_material_are_fingerprinted() -> None:
    fp = fingerprinter(ORG)
    flat = flatten({"keys": ["a" * 40, "b" * 40], "key": "A" * 44, "psk_id": "p1"}, "", fp)
    assert str(flat["keys"]).startswith("fingerprint:") and str(flat["key"]).startswith("fingerprint:")
    assert flat["psk_id"] == "p1"  # a setting, not a secret


def test_plan_json_hides_radius_secrets_in_bodies_and_diffs() -> None:
    change = Change("update", 10, "wlans", "t/x", mist_id="w1", calls=1,
                    body={"auth_servers": [{"host": "10.0.0.5", "secret": RADIUS}], "keywrap_kek": "kek-value"},
                    diff={"auth_servers": [[{"host": "10.0.0.5", "secret": "old-radius"}],
                                           [{"host": "10.0.0.5", "secret": RADIUS}]]})
    dumped = json.dumps(_plan(change).to_json())
    assert RADIUS not in dumped and "old-radius" not in dumped and "kek-value" not in dumped
    assert "10.0.0.5" in dumped
    flat = flatten(change.body, "", fingerprinter(ORG))
    assert str(flat["keywrap_kek"]).startswith("fingerprint:")
