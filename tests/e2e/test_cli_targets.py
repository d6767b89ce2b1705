"""Targeted runs and `plan --detail` end to end: `python -m mistctl` processes against the twin over HTTP.

`--kind wlan` plans and applies the WLANs with their template and site group, nothing else; `--site` with
a glob one store and what it uses; a saved targeted plan records its target and applies exactly it; a
targeted apply never deletes (not even with the WLAN gone from the fleet); bad targets exit 2 and write
nothing; `--detail` shows a WLAN's changed values with its passphrases only as fingerprints.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mist_twin.config import TwinConfig
from tests.support.cli_procs import cli_env, mistctl
from tests.support.engine import EXAMPLE
from tests.support.twin import running_twin

OLD_PSK = "corp-example-passphrase-rotate-me"
NEW_PSK = "corp-new-passphrase-for-2027"


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    tmp = tmp_path_factory.mktemp("targets")
    with running_twin(TwinConfig()) as (url, org_id, token):
        yield url, cli_env(tmp, url, token, org_id, MISTCTL_FINGERPRINT_KEY="f" * 40), tmp


def _fleet(tmp: Path, name: str, edit: Any = None) -> str:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["sites"] = [s for s in data["sites"] if "name" in s]  # the named stores (no CSV beside it)
    data["name"] = "retail"  # versions of one fleet in several files: one owner (see "Who owns what")
    if edit is not None:
        edit(data)
    path = tmp / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def _state(url: str) -> dict[str, Any]:
    data: dict[str, Any] = httpx.get(f"{url}/__twin/state", timeout=30).json()
    return data


def _writes(url: str) -> int:
    routes = httpx.get(f"{url}/__twin/counters", timeout=30).json()["by_route"]
    return sum(n for route, n in routes.items() if not route.startswith("GET"))


def _json(out: str) -> dict[str, Any]:
    data, _ = json.JSONDecoder().raw_decode(out[out.index("{"):])
    assert isinstance(data, dict)
    return data


def test_targeted_plans_and_applies(twin: tuple[str, dict[str, str], Path]) -> None:
    url, env, tmp = twin
    fleet = _fleet(tmp, "fleet.yaml")
    for bad, named in ((["--site", "Store-NYX-*"], "did you mean 'Store-NYC-*'"),
                       (["--kind", "wlna"], "did you mean wlans?"),
                       (["--site", "store-nyc-001"], "did you mean 'Store-NYC-001'")):
        for cmd in (["plan", fleet], ["apply", fleet, "--yes"]):
            done = mistctl(env, *cmd, *bad)
            assert done.returncode == 2 and named in done.stderr + done.stdout and "Traceback" not in done.stderr
    assert _writes(url) == 0

    done = mistctl(env, "plan", fleet, "--kind", "wlan", "--out", str(tmp / "wlans.json"))
    assert done.returncode == 0, done.stderr
    assert "Targeted plan: 0 of 5 sites, kinds: wlans; 2 object(s) pulled in" in done.stdout
    saved = json.loads((tmp / "wlans.json").read_text())
    assert saved["target"]["kinds"] == ["wlans"] and saved["target"]["sites"] == []
    assert {(c["kind"], c["key"]) for c in saved["changes"]} == {
        ("site_groups", "retail-stores"), ("wlan_templates", "store-wifi"), ("wlans", "store-wifi/Store-Corp"),
        ("wlans", "store-wifi/Store-Guest"), ("wlans", "store-wifi/Store-IoT")}
    assert mistctl(env, "apply", str(tmp / "wlans.json"), "--site", "Store-NYC-001").returncode == 2
    done = mistctl(env, "apply", str(tmp / "wlans.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    state = _state(url)
    assert sorted(w["ssid"] for w in state["wlans"]) == ["Store-Corp", "Store-Guest", "Store-IoT"]
    assert [t["name"] for t in state["templates"]] == ["store-wifi"]
    assert [g["name"] for g in state["sitegroups"]] == ["retail-stores"]
    assert not state.get("sites") and not state.get("networks") and not state.get("psks")
    assert mistctl(env, "plan", fleet, "--kind", "wlans", "--detailed-exitcode").returncode == 0
    assert mistctl(env, "plan", fleet, "--detailed-exitcode").returncode == 4  # the rest of the org is not there

    done = mistctl(env, "apply", fleet, "--site", "Store-NYC-*", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Targeted plan: 1 of 5 sites" in done.stdout and "1 sites done, 0 failed" in done.stdout
    state = _state(url)
    assert [s["name"] for s in state["sites"]] == ["Store-NYC-001"]
    nyc = state["sites"][0]
    assert {g["id"] for g in state["sitegroups"] if g["name"] in ("retail-stores", "flagship")} == set(
        nyc["sitegroup_ids"])
    assert nyc["gatewaytemplate_id"] == state["gatewaytemplates"][0]["id"]
    assert len([d for d in state["inventory"] if d.get("site_id") == nyc["id"]]) == 4
    assert not state.get("psks") and not state.get("wxtags")  # not in the target
    assert mistctl(env, "plan", fleet, "--site", "Store-NYC-001", "--detailed-exitcode").returncode == 0


def test_targeted_apply_never_deletes_and_detail_hides_secrets(twin: tuple[str, dict[str, str], Path]) -> None:
    url, env, tmp = twin
    assert mistctl(env, "apply", _fleet(tmp, "whole.yaml"), "--yes").returncode == 0

    def change(data: dict[str, Any]) -> None:
        wlans = data["org"]["wlans"]
        data["org"]["wlans"] = [w for w in wlans if w["ssid"] != "Store-Guest"]
        corp = next(w for w in wlans if w["ssid"] == "Store-Corp")
        corp["auth"] = {**corp["auth"], "psk": NEW_PSK, "pairwise": ["wpa2-ccmp", "wpa3"]}
    fleet = _fleet(tmp, "changed.yaml", change)
    whole = _json(mistctl(env, "plan", fleet, "--json", "--detail").stdout)
    (gone,) = [c for c in whole["changes"] if c["action"] == "delete" and c["kind"] == "wlans"]
    assert gone["key"] == "store-wifi/Store-Guest"  # a whole plan deletes it: what goes away, field by field
    assert {"path": "ssid", "before": "Store-Guest", "after": None} in gone["detail"]
    assert {"path": "auth.type", "before": "open", "after": None} in gone["detail"]

    done = mistctl(env, "plan", fleet, "--kind", "wlan", "--detail")
    out = done.stdout + done.stderr
    assert done.returncode == 0 and "Targeted plan: 0 of 5 sites, kinds: wlans" in out
    assert 'auth.pairwise: ["wpa2-ccmp"] -> ["wpa2-ccmp", "wpa3"]' in out
    assert "auth.psk: fingerprint:" in out and " -> fingerprint:" in out
    assert "0 to delete" in out and OLD_PSK not in out and NEW_PSK not in out
    done = mistctl(env, "plan", fleet, "--kind", "wlan", "--detail", "--json", "--out", str(tmp / "d.json"))
    data = _json(done.stdout)
    rows = next(c["detail"] for c in data["changes"] if c["key"] == "store-wifi/Store-Corp")
    assert {"path": "auth.pairwise", "before": ["wpa2-ccmp"], "after": ["wpa2-ccmp", "wpa3"]} in rows
    psk = next(r for r in rows if r["path"] == "auth.psk")
    assert psk["before"].startswith("fingerprint:") and psk["before"] != psk["after"]
    for text in (done.stdout, done.stderr, (tmp / "d.json").read_text()):
        assert OLD_PSK not in text and NEW_PSK not in text

    assert mistctl(env, "apply", fleet, "--kind", "wlan", "--allow-delete", "--yes").returncode == 2
    done = mistctl(env, "apply", fleet, "--kind", "wlan", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    wlans = {w["ssid"]: w for w in _state(url)["wlans"]}
    assert "Store-Guest" in wlans  # outside the target: never deleted by a targeted apply
    assert wlans["Store-Corp"]["auth"]["pairwise"] == ["wpa2-ccmp", "wpa3"]
    assert wlans["Store-Corp"]["auth"]["psk"] == NEW_PSK
