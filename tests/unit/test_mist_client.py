"""MistClient against httpx.MockTransport: pagination, paths, bodies, the http factory and Settings."""

from __future__ import annotations

import csv
import json
import random
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from mistctl.config import Settings
from mistctl.domain import kinds
from mistctl.mist import (
    InMemoryCallBudget,
    ManualClock,
    MistClient,
    base_url_for,
    build_http_client,
)
from mistctl.mist.core import item_template
from mistctl.mist.errors import BadRequest

TOKEN = "tok-client-0123456789abcdef"
ORG = "9777c1a0-6ef6-11e6-8bbf-02e208b2d34f"
ENDPOINTS = Path(__file__).resolve().parents[2] / "spec" / "endpoints.tsv"


class FakeMist:
    """A tiny in-memory org collection store speaking Mist's paging; records every request."""

    def __init__(self, objects: int = 0, page_cap: int | None = None, headers: bool = True) -> None:
        self.objects = [{"id": f"id-{i}", "name": f"obj-{i}"} for i in range(objects)]
        self.page_cap = page_cap
        self.headers = headers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method != "GET":
            body = json.loads(request.content) if request.content else None
            return httpx.Response(200, json={"id": "new", "echo": body})
        if "limit" not in request.url.params:
            return httpx.Response(200, json={"id": request.url.path.rsplit("/", 1)[-1]})
        limit = int(request.url.params["limit"])
        if self.page_cap:
            limit = min(limit, self.page_cap)
        page = int(request.url.params.get("page", 1))
        chunk = self.objects[(page - 1) * limit : page * limit]
        headers = {}
        if self.headers:
            headers = {
                "X-Page-Limit": str(limit),
                "X-Page-Page": str(page),
                "X-Page-Total": str(len(self.objects)),
            }
        return httpx.Response(200, json=chunk, headers=headers)


@asynccontextmanager
async def client_for(handler, **kw):
    clock = kw.pop("clock", ManualClock())
    async with build_http_client("api.mist.com", transport=httpx.MockTransport(handler)) as http:
        yield MistClient(http, TOKEN, clock=clock, rng=random.Random(7), **kw)


async def test_a_list_that_fits_in_one_page_is_one_call():
    fake = FakeMist(objects=999)
    async with client_for(fake) as client:
        sites = await client.list_sites(ORG)
    assert len(sites) == 999
    assert len(fake.requests) == 1
    assert fake.requests[0].url.params["limit"] == "1000"


async def test_pages_until_page_times_limit_covers_the_total():
    fake = FakeMist(objects=2500)
    async with client_for(fake) as client:
        objs = await client.list_org(ORG, "networks")
    assert [o["id"] for o in objs] == [f"id-{i}" for i in range(2500)]
    assert [r.url.params["page"] for r in fake.requests] == ["1", "2", "3"]
    assert client.calls.total == 3


async def test_exact_multiple_of_the_page_stops_without_an_empty_page():
    fake = FakeMist(objects=2000)
    async with client_for(fake) as client:
        objs = await client.list_org(ORG, "wlans")
    assert len(objs) == 2000
    assert len(fake.requests) == 2


async def test_a_server_that_caps_the_page_size_is_followed_by_its_headers():
    fake = FakeMist(objects=250, page_cap=100)
    async with client_for(fake) as client:
        objs = await client.list_org(ORG, "wxtags")
    assert len(objs) == 250
    assert len(fake.requests) == 3


async def test_without_page_headers_a_short_page_ends_the_list():
    fake = FakeMist(objects=1500, headers=False)
    async with client_for(fake) as client:
        objs = await client.list_org(ORG, "services")
    assert len(objs) == 1500
    assert len(fake.requests) == 2


async def test_an_empty_list_is_one_call():
    fake = FakeMist(objects=0)
    async with client_for(fake) as client:
        assert await client.list_psks(ORG, ssid="corp") == []
    assert len(fake.requests) == 1
    assert fake.requests[0].url.params["ssid"] == "corp"


async def test_query_filters_use_mist_spelling():
    fake = FakeMist()
    async with client_for(fake) as client:
        await client.list_inventory(ORG, unassigned=True, type="gateway", site_id=None)
    params = fake.requests[0].url.params
    assert params["unassigned"] == "true"
    assert params["type"] == "gateway"
    assert "site_id" not in params


async def test_requests_carry_the_token_header_and_the_api_prefix():
    fake = FakeMist()
    async with client_for(fake) as client:
        await client.get_site("s-1")
    req = fake.requests[0]
    assert req.headers["Authorization"] == f"Token {TOKEN}"
    assert str(req.url) == "https://api.mist.com/api/v1/sites/s-1"


async def test_ids_are_quoted_so_they_cannot_change_the_path():
    fake = FakeMist()
    async with client_for(fake) as client:
        await client.get_network(ORG, "../../self")
    assert fake.requests[0].url.raw_path.decode().endswith("/networks/..%2F..%2Fself")


async def test_inventory_claim_posts_a_bare_array_and_reads_the_result():
    def handler(request: httpx.Request) -> httpx.Response:
        codes = json.loads(request.content)
        assert isinstance(codes, list)
        return httpx.Response(
            200, json={"added": codes[:1], "duplicated": codes[1:], "error": [], "reason": []}
        )

    async with client_for(handler) as client:
        result = await client.claim_inventory(ORG, ["AAA", "BBB"])
    assert result.added == ["AAA"]
    assert result.duplicated == ["BBB"]


async def test_inventory_assign_and_unassign_send_op_bodies():
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append({"method": request.method, **body})
        return httpx.Response(
            200, json={"op": body["op"], "success": body["macs"], "error": [], "reason": []}
        )

    async with client_for(handler) as client:
        assigned = await client.assign_inventory(ORG, "site-1", ["5c5b35000001"])
        unassigned = await client.unassign_inventory(ORG, ["5c5b35000001"])
    assert seen[0] == {
        "method": "PUT",
        "op": "assign",
        "site_id": "site-1",
        "macs": ["5c5b35000001"],
        "no_reassign": False,
        "managed": True,  # else an adopted switch or gateway never gets its templates
        "disable_auto_config": False,
    }
    assert seen[1] == {"method": "PUT", "op": "unassign", "macs": ["5c5b35000001"]}
    assert assigned.success == ["5c5b35000001"] and unassigned.op == "unassign"


@pytest.mark.parametrize("status", [400, 404])
async def test_an_assign_refused_for_some_macs_answers_per_mac_results(status: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"op": "assign", "success": ["5c5b35000001"], "error": ["5c5b35000002"], "reason": ["already claimed"]}
        return httpx.Response(status, json=body)

    async with client_for(handler) as client:
        answer = await client.assign_inventory(ORG, "site-1", ["5c5b35000001", "5c5b35000002"])
    assert answer.success == ["5c5b35000001"]
    assert answer.refusals() == [("5c5b35000002", "already claimed")]


async def test_an_assign_error_without_per_mac_lists_still_raises() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"detail": "site_id: invalid"})

    async with client_for(handler) as client:
        with pytest.raises(BadRequest, match="site_id: invalid"):
            await client.assign_inventory(ORG, "site-1", ["5c5b35000001"])


async def test_update_site_device_puts_the_body_on_the_device_path() -> None:
    fake = FakeMist()
    async with client_for(fake) as client:
        await client.update_site_device("site-1", "dev-1", {"name": "gw", "type": "gateway"})
    request = fake.requests[0]
    assert (request.method, request.url.path) == ("PUT", "/api/v1/sites/site-1/devices/dev-1")
    assert json.loads(request.content) == {"name": "gw", "type": "gateway"}


async def test_psk_upsert_sets_the_query_flag():
    fake = FakeMist()
    async with client_for(fake) as client:
        await client.create_psk(ORG, {"name": "a", "passphrase": "p" * 8, "ssid": "s"}, upsert=True)
        await client.create_psk(ORG, {"name": "b", "passphrase": "p" * 8, "ssid": "s"})
    assert fake.requests[0].url.params["upsert"] == "true"
    assert "upsert" not in fake.requests[1].url.params


async def test_delete_answers_none_and_update_answers_the_object():
    fake = FakeMist()
    async with client_for(fake) as client:
        assert await client.delete_wlan(ORG, "w-1") is None
        updated = await client.update_sitegroup(ORG, "g-1", {"name": "east"})
    assert updated["echo"] == {"name": "east"}
    assert [r.method for r in fake.requests] == ["DELETE", "PUT"]


def _spec_paths() -> set[tuple[str, str]]:
    with ENDPOINTS.open() as fh:
        return {(row["method"], row["path"]) for row in csv.DictReader(fh, delimiter="\t")}


@pytest.mark.parametrize("kind", kinds.ORG_KINDS + (kinds.SITES,), ids=lambda k: k.key)
def test_every_kind_maps_to_spec_paths(kind):
    spec = _spec_paths()
    template, _ = item_template(kind.collection)
    for method, path in [
        ("GET", f"/orgs/{{org_id}}/{kind.collection}"),
        ("POST", f"/orgs/{{org_id}}/{kind.collection}"),
    ]:
        assert (method, "/api/v1" + path) in spec
    for method in ("GET", "PUT", "DELETE"):
        assert (method, "/api/v1" + template) in spec


def test_inventory_has_no_per_object_path():
    with pytest.raises(ValueError, match="inventory"):
        item_template("inventory")


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("api.mist.com", "https://api.mist.com"),
        ("api.eu.mist.com", "https://api.eu.mist.com"),
        ("http://127.0.0.1:8900", "http://127.0.0.1:8900"),
        ("https://proxy.example/mist/api/v1/", "https://proxy.example/mist"),
    ],
)
def test_base_url_for_hosts_and_urls(host, url):
    assert base_url_for(host) == url


@pytest.mark.parametrize("host", ["api mist com", "ftp://api.mist.com", "", "https://"])
def test_bad_hosts_name_mist_host(host):
    with pytest.raises(ValueError, match="MIST_HOST"):
        base_url_for(host)


async def test_build_http_client_sets_explicit_timeouts():
    async with build_http_client("api.gc1.mist.com") as http:
        assert str(http.base_url) == "https://api.gc1.mist.com"
        assert http.timeout.connect == 5.0 and http.timeout.read == 30.0
        assert http.timeout.write == 30.0 and http.timeout.pool == 30.0
        assert "authorization" not in http.headers


async def test_for_token_pins_one_token_and_shares_the_meter():
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json={"privileges": []})

    clock = ManualClock()
    async with build_http_client("api.mist.com", transport=httpx.MockTransport(handler)) as http:
        client = MistClient(http, ["tok-a-123", "tok-b-456"], clock=clock, budget=InMemoryCallBudget(clock))
        await client.for_token(client.token_keys[1]).get_self()
        await client.get_self()
    assert seen == ["Token tok-b-456", "Token tok-a-123"]
    assert client.calls.total == 2


def test_settings_read_the_environment(monkeypatch):
    monkeypatch.setenv("MIST_HOST", "api.eu.mist.com")
    monkeypatch.setenv("MIST_APITOKEN", " tok-1 , tok-2,,")
    monkeypatch.setenv("MIST_ORG_ID", ORG)
    monkeypatch.setenv("MISTCTL_DESIGN", "fleet.yaml")
    monkeypatch.delenv("MISTCTL_STATE", raising=False)
    settings = Settings()
    assert settings.mist_host == "api.eu.mist.com"
    assert [t.get_secret_value() for t in settings.tokens()] == ["tok-1", "tok-2"]
    assert settings.mist_org_id == ORG
    assert settings.mistctl_design == Path("fleet.yaml")
    assert settings.mistctl_state == "sqlite:///.mistctl/state.db"
    assert settings.mist_concurrency == 8
    assert "tok-1" not in repr(settings) and "tok-1" not in str(settings.model_dump())


def test_settings_without_a_token_have_no_tokens(monkeypatch):
    monkeypatch.delenv("MIST_APITOKEN", raising=False)
    monkeypatch.setenv("MIST_HOST", "")
    settings = Settings()
    assert settings.tokens() == []
    assert settings.mist_host is None
    assert Settings(mist_apitoken=SecretStr("x")).tokens()[0].get_secret_value() == "x"
