"""Day 2 pure pieces: durations, wave specs and wave cuts, SLE gates, drift differences, metric names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mistctl.domain.durations import format_duration, parse_duration
from mistctl.domain.plan import Change, Plan, Problem
from mistctl.errors import UserError
from mistctl.workflow.assure import HealthReport, SiteHealth, metrics_wanted, mist_duration
from mistctl.workflow.drift import differences
from mistctl.workflow.psk import choose_psks, new_passphrase
from mistctl.workflow.rollout_gate import compare, degraded_by_others, gate_reason
from mistctl.workflow.rollout_plan import Target, parse_waves, plan_waves


@pytest.mark.parametrize(("text", "seconds"), [
    ("30s", 30), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("2d", 172800), ("90", 90), (" 10 m ", 600),
    (45, 45), ("0s", 0), ("1.5h", 5400),
])
def test_durations_parse(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5x", "m5", "-1s", "forever", "5m30", "40d"])
def test_bad_durations_name_the_option(text: str) -> None:
    with pytest.raises(ValueError, match="--soak"):
        parse_duration(text, what="--soak")


@given(st.integers(min_value=0, max_value=30 * 86400))
def test_format_duration_reads_back(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


def _targets(per_site: dict[str, int]) -> list[Target]:
    return [Target(f"{site.lower()}{i:02d}", f"id-{site}-{i}", site, f"sid-{site}", "ap")
            for site, n in per_site.items() for i in range(n)]


def test_waves_are_cumulative_with_a_single_device_canary() -> None:
    targets = _targets({"A": 5, "B": 5, "C": 10})
    waves = plan_waves(targets, parse_waves("1,10%,50%,100%"))
    assert [len(w.targets) for w in waves] == [1, 1, 8, 10]
    assert [t.mac for w in waves for t in w.targets] == sorted(t.mac for t in targets)
    assert waves[0].whole_sites == set() and waves[3].whole_sites == {"C"}
    assert waves[2].whole_sites == {"B"}, "A's first devices went in earlier waves: A goes device by device"


def test_waves_by_site_upgrade_whole_sites_and_drop_empty_waves() -> None:
    waves = plan_waves(_targets({"A": 3, "B": 2, "C": 1}), parse_waves("1,10%,100%"), by="site")
    assert [w.sites for w in waves] == [["A"], ["B", "C"]]
    assert all(w.whole_sites == set(w.sites) for w in waves)


def test_a_spec_short_of_100_percent_leaves_the_rest_out() -> None:
    waves = plan_waves(_targets({"A": 10}), parse_waves("1,50%"))
    assert sum(len(w.targets) for w in waves) == 5


@pytest.mark.parametrize("spec", ["", "1,,2", "0", "10%%", "150%", "x"])
def test_bad_wave_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="wave|waves"):
        parse_waves(spec)


def _report(values: dict[str, dict[str, float | None]], threshold: float = 0.9) -> HealthReport:
    sites = [SiteHealth(n, f"id-{n}", dict(v), {m: x for m, x in v.items() if x is not None and x < threshold})
             for n, v in values.items()]
    return HealthReport("org", threshold, {"wifi": ("coverage",)}, sites)


def test_the_gate_fails_below_threshold_or_on_a_drop_from_baseline() -> None:
    before = _report({"A": {"coverage": 0.99}, "B": {"coverage": 0.95}, "C": {"coverage": None}})
    after = _report({"A": {"coverage": 0.92}, "B": {"coverage": 0.94}, "C": {"coverage": None}})
    gate = compare(1, before, after, max_drop=0.05)
    assert gate.failing == {"A": {"coverage": {"before": 0.99, "after": 0.92}}}
    assert "A: coverage 0.92 (baseline 0.99)" in gate_reason(gate, "1.2.3")
    low = compare(2, before, _report({"B": {"coverage": 0.5}}), max_drop=1.0)
    assert set(low.failing) == {"B"} and not compare(0, None, after, 0.0).failing


def test_drift_differences_by_object_and_field_with_secrets_redacted() -> None:
    plan = Plan("org", "h", "f", [
        Change("update", 10, "wlans", "t/Corp", mist_id="1", diff={"hide_ssid": [False, True],
               "auth": [{"type": "psk", "psk": "live-secret"}, {"type": "psk", "psk": "fleet-secret"}]}),
        Change("update", 13, "psks", "iot", mist_id="2", diff={"passphrase": ["a-live-one", "a-fleet-one"]}),
        Change("update", 1, "site_vars", "S1", site="S1", diff={"vlan": ["10", "20"]}),
        Change("create", 0, "site_groups", "g"),
        Change("noop", 4, "networks", "n"),
        Change("update", 8, "wlan_templates", "t", phase="bind", body={"applies": {}}),
    ], problems=[Problem("sites", "S2", "two sites named S2")])
    found = differences(plan)
    assert [(d.kind, d.key, d.field, d.what) for d in found] == [
        ("sites", "S2", "(object)", "conflict"), ("wlans", "t/Corp", "auth", "changed"),
        ("wlans", "t/Corp", "hide_ssid", "changed"), ("psks", "iot", "passphrase", "changed"),
        ("site_vars", "S1", "vars.vlan", "changed"), ("site_groups", "g", "(object)", "missing")]
    text = str([d.to_json() for d in found])
    assert "secret" not in text and "a-live-one" not in text and "a-fleet-one" not in text


def test_metric_names_in_either_spelling() -> None:
    assert metrics_wanted(["switch_health", "coverage"]) == {"wifi": ("coverage",), "wired": ("switch-health",)}
    assert metrics_wanted(families={"wan"}) == {"wan": ("gateway-health", "wan-link-health", "application_health")}
    with pytest.raises(UserError, match="'nope'"):
        metrics_wanted(["nope"])
    assert mist_duration(0) is None and mist_duration(3600) == "1h" and mist_duration(90) == "2m"


def test_passphrases_and_psk_choice() -> None:
    made = {new_passphrase() for _ in range(50)}
    assert len(made) == 50 and all(len(p) == 32 for p in made)
    with pytest.raises(ValueError):
        new_passphrase(64)
    psks = [{"id": "1", "name": "a"}, {"id": "2", "name": "b"}, {"id": "3", "name": "b"}]
    assert [p["id"] for p in choose_psks(psks, ["a"], False)] == ["1"]
    with pytest.raises(UserError, match="share a name.*'b' \\(2, 3\\)"):
        choose_psks(psks, [], True)
    with pytest.raises(UserError, match="--all"):
        choose_psks(psks, ["a"], True)


def test_sites_degraded_by_mistctl_s_own_devices_are_allowed_and_judged_on_drops_only() -> None:
    def report(values: dict[str, dict[str, float | None]]) -> HealthReport:
        sites = [SiteHealth(name, f"id-{name}", values=v) for name, v in values.items()]
        return HealthReport("org", 0.9, metrics_wanted(), sites=sites)

    before = report({"A": {"coverage": 0.6, "switch-health": 0.95}, "B": {"coverage": 0.5},
                     "C": {"coverage": 0.6, "switch-health": 0.5}})
    gate = compare(1, None, before, 0.05)
    others = degraded_by_others(gate, {"A": {"wifi"}, "C": {"wifi"}})
    assert others == ["B", "C"] and gate.allowed == ["A"]  # C is also low on wired, which no own device explains
    after = report({"A": {"coverage": 0.62, "switch-health": 0.95}})
    assert not compare(1, before, after, 0.05, lenient={"A"}).failing
    worse = report({"A": {"coverage": 0.4, "switch-health": 0.95}})
    assert compare(1, before, worse, 0.05, lenient={"A"}).failing == {"A": {"coverage": {"before": 0.6,
                                                                                         "after": 0.4}}}


def test_site_status_is_pass_fail_or_no_data() -> None:
    assert SiteHealth("a", "1", values={"coverage": 0.95}).status == "pass"
    assert SiteHealth("b", "2", values={"coverage": 0.5}, failing={"coverage": 0.5}).status == "fail"
    assert SiteHealth("c", "3", values={"coverage": None}).status == "no-data"
    assert SiteHealth("d", None, missing=True).status == "fail"
    both = HealthReport("org", 0.9, {}, sites=[SiteHealth("a", "1", values={"x": 0.95}),
                                               SiteHealth("c", "3", values={"x": None})])
    assert not both.ok and both.passes(allow_no_data=True) and not both.passes()
