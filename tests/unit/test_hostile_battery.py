"""A battery of hostile fleet files beyond tests/fixtures/hostile: every one is exit 2 from `validate`
with the expected words and no traceback (tags, keys, numbers, types at depth, odd files, odd CSVs)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mistctl.cli.main import app

runner = CliRunner()
BASE = """ip_plan:
  segments: [{name: mgmt, vlan: 10, prefix: 24}]
  zone_prefix: 12
  site_prefix: 22
zones: [{id: 1, name: east}]
"""
SITE = "sites: [{name: s1, zone: 1, number: 1}]\n"
WLANS = BASE + SITE + "org:\n  wlan_templates: [{name: t}]\n  wlans:\n    - "

FLEETS: dict[str, tuple[str, str]] = {
    "python tag": (BASE + "zones: !!python/object/apply:os.system ['echo owned']\n", "YAML syntax error"),
    "unhashable key": (BASE + SITE + "? [a, b]\n: 1\n", "YAML syntax error"),
    "merge-key bomb": (BASE + SITE + "x0: &x0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9}\n"
                       + "".join(f"x{i}: &x{i} {{{', '.join(f'k{j}: *x{i - 1}' for j in range(9))}}}\n"
                                 for i in range(1, 9)), "aliases (*name) expand"),
    "hex integer of 30 digits": (BASE + "sites: [{name: s1, zone: 1, number: 0x" + "f" * 30 + "}]\n",
                                 "an integer of"),
    "negative huge integer": (BASE + "sites: [{name: s1, zone: -" + "9" * 400 + ", number: 1}]\n",
                              "an integer of 400 digits"),
    "zone .inf": (BASE + "sites: [{name: s1, zone: .inf, number: 1}]\n", "zone"),
    "latlng .nan": (BASE + "sites: [{name: s1, zone: 1, number: 1, latlng: {lat: .nan, lng: 0}}]\n", "lat"),
    "site_groups as a string": (BASE + "sites: [{name: s1, zone: 1, number: 1, site_groups: abc}]\n",
                                "site_groups"),
    "auth as a string": (WLANS + "{ssid: s, template: t, auth: psk}\n", "auth: must be a mapping"),
    "hide_ssid 1": (WLANS + "{ssid: s, template: t, hide_ssid: 1}\n", "hide_ssid: must be true or false"),
    "bad band in a list": (WLANS + "{ssid: s, template: t, bands: ['24', '7']}\n", "bands[1]: must be one of"),
    "int key in an object": (WLANS + "{ssid: s, template: t, 1: 2}\n", "the key 1 is not text"),
    "ssid null": (WLANS + "{ssid: null, template: t}\n", "ssid: must be a string"),
    "vlan true": (WLANS + "{ssid: s, template: t, vlan_id: true}\n", "VLAN 'True' must be a number"),
    "passphrase as a number": (BASE + SITE + "org:\n  wlan_templates: [{name: t}]\n"
                               "  wlans: [{ssid: s, template: t}]\n"
                               "  psks: [{name: p, ssid: s, passphrase: 12345678}]\n",
                               "passphrase must be a string"),
    "typo two levels deep": (BASE + SITE + "org:\n  networks: [{name: n}]\n  gateway_templates:\n"
                             "    - name: g\n      port_config:\n        ge-0/0/0: {usage: lan, networks: [n],"
                             " ip_config: {tpye: dhcp}}\n",
                             "port_config.ge-0/0/0.ip_config: unknown key 'tpye'"),
    "gateway not an address": (BASE + SITE + "org:\n  networks: [{name: n, subnet: 192.168.9.0/24,"
                               " gateway: 999.1.1.1}]\n", "gateway: must be an ipv4 address"),
    "top level a list": ("- a\n- b\n", "must be a mapping"),
}


@pytest.mark.parametrize("name", sorted(FLEETS))
def test_hostile_fleet_text(tmp_path: Path, name: str) -> None:
    text, expected = FLEETS[name]
    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "owned" not in result.output
    assert expected in " ".join(result.output.split()), result.output


CSV_FLEET = BASE + "sites: sites.csv\n"
CSVS: dict[str, tuple[bytes, str]] = {
    "unclosed quote": (b'#name,zone,number\n"s1,1,1\n' + b"x" * 200_000, "larger than 128 KiB"),
    "not UTF-8": (b"#name,zone,number\n\xff\xfe,1,1\n", "not UTF-8 text"),
    "pairs quoted back": (b"#name,zone,number,vars\ns1,1,1,hunter2secret\n", "vars: item 1 is not key:value"),
}


@pytest.mark.parametrize("name", sorted(CSVS))
def test_hostile_sites_csv(tmp_path: Path, name: str) -> None:
    content, expected = CSVS[name]
    (tmp_path / "fleet.yaml").write_text(CSV_FLEET)
    (tmp_path / "sites.csv").write_bytes(content)
    result = runner.invoke(app, ["validate", str(tmp_path / "fleet.yaml")])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert expected in result.output and "hunter2" not in result.output


def test_a_fifo_or_a_folder_is_refused_without_waiting(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fleet.yaml")
    (tmp_path / "folder").mkdir()
    (tmp_path / "other.yaml").write_text(BASE + "sites: folder\n")
    for target, expected in (("fleet.yaml", "is not a regular file"), ("other.yaml", "is not a regular file")):
        result = runner.invoke(app, ["validate", str(tmp_path / target)])
        assert result.exit_code == 2 and expected in result.output, result.output


def test_a_100000_character_ssid_is_named_in_a_short_line(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(WLANS + "{ssid: " + "s" * 100_000 + ", template: t}\n")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "an SSID holds 1 to 32 bytes" in result.output
    assert max(len(line) for line in result.output.splitlines()) < 1500
