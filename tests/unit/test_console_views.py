"""The console's view-model functions on plain values and a memory store: fleet queries and pages, run
progress, the deployment ETA, the address plan of a site, and the words pages use for times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mistctl.designs import load_design
from mistctl.domain.errors import FleetError
from mistctl.store.memory import MemoryStore
from mistctl.store.models import Run, SiteState
from mistctl.web.deploy_page import elapsed_seconds, eta_seconds
from mistctl.web.fleet_view import PAGE_SIZE, FleetQuery, fleet_page, run_row
from mistctl.web.plan_page import source_name, validate
from mistctl.web.render import duration, path_part, when
from mistctl.web.site_page import address_plan, design_fleet

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_a_fleet_query_ignores_unusable_values_and_builds_links_keeping_the_others() -> None:
    query = FleetQuery.parse("failed", " 2 ", "  nyc ", "3")
    assert query == FleetQuery("failed", "2", "nyc", 3) and query.filtered
    assert query.link(page=4) == "/ui?status=failed&zone=2&q=nyc&page=4"
    assert query.link(status=None, page=1) == "/ui?zone=2&q=nyc"
    assert FleetQuery.parse("bogus", "x", None, "-1") == FleetQuery()
    assert FleetQuery().link() == "/ui" and not FleetQuery(status="done").filtered


async def test_the_fleet_page_counts_pages_and_filters_through_the_store() -> None:
    store = MemoryStore()
    await store.put_site_states([SiteState(org_id="o", name=f"S-{n:03d}", zone=str(1 + n % 2), number=n,
                                           status="failed" if n % 5 == 0 else "done") for n in range(1, 231)])
    await store.put_site_state(SiteState(org_id="other", name="S-999", status="done"))
    page = await fleet_page(store, "o", FleetQuery(page=3))
    assert page.total == 230 and page.counts["failed"] == 46 and page.pages == 3 and page.first == 201
    assert [s.name for s in page.sites][:2] == ["S-201", "S-202"] and len(page.sites) == 30
    failed = await fleet_page(store, "o", FleetQuery(status="failed"))
    assert failed.matched == 46 and all(s.status == "failed" for s in failed.sites)
    zone = await fleet_page(store, "o", FleetQuery(zone="2", q="s-00"))
    assert zone.matched == 5 and [s.name for s in zone.sites] == ["S-001", "S-003", "S-005", "S-007", "S-009"]
    beyond = await fleet_page(store, "o", FleetQuery(page=9))
    assert beyond.sites == [] and beyond.first == 0 and PAGE_SIZE == 100


async def test_the_fleet_page_lists_the_orgs_recent_runs_with_their_progress() -> None:
    store = MemoryStore()
    await store.create_run(Run(kind="apply", org_id="o", status="running",
                               counts={"sites_total": 8, "sites_done": 3, "sites_failed": 1}))
    await store.create_run(Run(kind="apply", org_id="elsewhere"))
    page = await fleet_page(store, "o", FleetQuery())
    assert [(r.done, r.failed, r.total, r.percent) for r in page.runs] == [(3, 1, 8, 50)]
    assert run_row(Run(kind="psk", org_id="o", status="completed")).percent == 100
    assert run_row(Run(kind="psk", org_id="o", status="running")).percent == 0


def test_the_eta_follows_the_pace_of_writes_or_else_of_sites() -> None:
    run = Run(kind="apply", org_id="o", status="running", started_at=T0, counts={"writes": 30})
    elapsed = elapsed_seconds(run, T0 + timedelta(seconds=60))
    assert elapsed == 60.0
    assert eta_seconds(run, elapsed, finished=0, total=10, estimated_calls=120) == pytest.approx(180.0)
    no_plan = eta_seconds(run, elapsed, finished=4, total=10, estimated_calls=None)
    assert no_plan == pytest.approx(90.0)
    assert eta_seconds(run, elapsed, finished=0, total=10, estimated_calls=None) is None
    ended = run.model_copy(update={"status": "completed", "finished_at": T0 + timedelta(seconds=75)})
    assert eta_seconds(ended, 75.0, finished=10, total=10, estimated_calls=120) is None
    assert elapsed_seconds(ended, T0 + timedelta(days=1)) == 75.0
    assert elapsed_seconds(Run(kind="apply", org_id="o"), T0) is None


def test_a_sites_addresses_come_from_the_designs_plan_and_its_recorded_place() -> None:
    fleet = design_fleet(load_design())
    assert design_fleet(load_design()) is not fleet and design_fleet(load_design()).zones == fleet.zones
    plan = address_plan(fleet, SiteState(org_id="o", name="Store-9", zone="3", number=9))
    assert plan.block == "10.64.32.0/22" and plan.zone_name == "us-west"
    assert [(s.name, s.subnet, s.gateway, s.vlan) for s in plan.segments][:2] == [
        ("mgmt", "10.64.32.0/24", "10.64.32.1", 10), ("data", "10.64.33.0/24", "10.64.33.1", 20)]
    assert plan.variables["voice_subnet"] == "10.64.34.0/25" and plan.variables["zone_name"] == "us-west"
    unnamed = address_plan(fleet, SiteState(org_id="o", name="Far", zone="7", number=1))
    assert unnamed.zone_name is None and unnamed.block == "10.192.0.0/22"
    with pytest.raises(FleetError, match="not recorded yet"):
        address_plan(fleet, SiteState(org_id="o", name="New"))
    with pytest.raises(FleetError, match="capacity"):
        address_plan(fleet, SiteState(org_id="o", name="Big", zone="1", number=99999))


def test_posted_fleets_are_named_and_validated_without_echoing_them() -> None:
    assert source_name(None) == "pasted fleet" and source_name("C:\\fleets\\stores.yaml") == "stores.yaml"
    assert source_name("/tmp/" + "x" * 200).startswith("x") and len(source_name("x" * 200)) == 80
    fleet, issues = validate("   ", "pasted fleet")
    assert fleet is None and issues[0].message.startswith("is empty")
    fleet, issues = validate("ip_plan: [", "pasted fleet")
    assert fleet is None and issues and issues[0].file == "pasted fleet"


def test_times_and_durations_in_words_and_path_quoting() -> None:
    assert when(T0) == "2025-03-01 12:00:00 UTC" and when(None) == ""
    assert [duration(s) for s in (None, 4.4, 200, 7500)] == ["", "4 s", "3 min 20 s", "2 h 05 min"]
    assert path_part("Store A/1") == "Store%20A%2F1"
