"""The twin's strictness answers, on spec: the 400s for unknown fields and ambiguous site-group names.

Also: an unassigned inventory item conforms to the spec as written (`site_id` is a string, so the twin
omits it rather than answer null; the checker no longer needs an exception for it).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.openapi_check import ContractChecker, build_openapi
from tests.support.twin import twin_app, twin_client


@pytest.fixture
def checker(mist_spec: dict[str, Any]) -> ContractChecker:
    return ContractChecker(build_openapi(mist_spec), strict=True, spec=mist_spec)


async def test_strictness_error_answers_are_on_spec(checker: ContractChecker) -> None:
    app = twin_app(inventory_count=2)
    org = app.state.twin.org_id
    async with twin_client(app, checker=checker) as client:
        top = await client.post(f"/api/v1/orgs/{org}/sites", json={"name": "a", "colour": "red"})
        nested = await client.post(
            f"/api/v1/orgs/{org}/wlans", json={"ssid": "corp", "auth": {"type": "open", "mode": "x"}}
        )
        site = (await client.post(f"/api/v1/orgs/{org}/sites", json={"name": "a"})).json()
        setting = await client.put(f"/api/v1/sites/{site['id']}/setting", json={"vars": {}, "varz": {}})
        groups = [(await client.post(f"/api/v1/orgs/{org}/sitegroups", json={"name": "g"})).json() for _ in "ab"]
        ambiguous = await client.put(f"/api/v1/sites/{site['id']}", json={"sitegroup_ids": [groups[0]["id"]]})
        inventory = await client.get(f"/api/v1/orgs/{org}/inventory")
    assert [a.status_code for a in (top, nested, setting, ambiguous)] == [400] * 4
    assert top.json()["detail"] == "invalid field: colour"
    assert nested.json()["detail"] == "invalid field: auth.mode"
    assert setting.json()["detail"] == "invalid field: varz"
    assert ambiguous.json()["detail"] == "SiteGroup name 'g' is already used"
    assert inventory.status_code == 200 and all("site_id" not in d for d in inventory.json())
    assert {(m, s) for m, _p, s in checker.seen} >= {("POST", 400), ("PUT", 400), ("GET", 200)}
