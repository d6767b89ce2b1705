"""Day 2 workflow pieces against small fakes: upgrade starts and waits (lost answers, failures, the time
budget), and plans keeping a rotated PSK passphrase."""

from __future__ import annotations

from typing import Any

from mistctl.domain import kinds as K
from mistctl.domain.desired import DesiredObject, DesiredState
from mistctl.domain.diff import LiveState
from mistctl.mist.errors import OutcomeUnknown
from mistctl.mist.models_day2 import DeviceStats, DeviceUpgradeStarted, DeviceVersion, SiteUpgrade
from mistctl.store.memory import MemoryStore
from mistctl.store.redact import fingerprint_secret
from mistctl.workflow.psk_records import FP_KIND, ORIGIN_KIND, respect_rotations
from mistctl.workflow.rollout_io import Polling, start_wave, wait_wave
from mistctl.workflow.rollout_plan import Target, Wave


class FakeFirmware:
    """Devices that take `polls` reads to finish an upgrade; some fail, some answers get lost."""

    def __init__(self, macs: list[str], *, polls: int = 2, failing: set[str] | None = None,
                 lose_answers: bool = False, never: bool = False) -> None:
        self.version = dict.fromkeys(macs, "1.0")
        self.jobs: dict[str, tuple[str, int]] = {}
        self.results: dict[str, str] = {}
        self.polls, self.failing, self.lose, self.never = polls, failing or set(), lose_answers, never
        self.upgrade_calls = 0

    async def upgrade_device(self, site_id: str, device_id: str, version: str, **_: Any) -> DeviceUpgradeStarted:
        mac = device_id.removeprefix("dev-")
        self.upgrade_calls += 1
        self.jobs[mac] = (version, self.polls)
        if self.lose:
            raise OutcomeUnknown("lost")
        return DeviceUpgradeStarted(status="inprogress", timestamp=100.0)

    async def get_site_device_stats(self, site_id: str, device_id: str) -> DeviceStats:
        mac = device_id.removeprefix("dev-")
        fw = {"status": "inprogress", "timestamp": 100.0} if mac in self.jobs else None
        return DeviceStats.model_validate({"mac": mac, "type": "ap", "version": self.version[mac], "fwupdate": fw})

    async def list_site_device_stats(self, site_id: str, type: str = "all") -> list[DeviceStats]:
        for mac, (version, left) in list(self.jobs.items()):
            if self.never:
                continue
            if left > 1:
                self.jobs[mac] = (version, left - 1)
                continue
            del self.jobs[mac]
            self.results[mac] = "failed" if mac in self.failing else "success"
            if mac not in self.failing:
                self.version[mac] = version
        return [DeviceStats.model_validate({
            "mac": m, "type": "ap", "version": v,
            "fwupdate": {"status": self.results[m], "timestamp": 150.0} if m in self.results else None})
            for m, v in self.version.items()]

    async def list_site_device_versions(self, site_id: str, type: str | None = None, *,
                                        model: str | None = None) -> list[DeviceVersion]:
        return []

    async def upgrade_site_devices(self, site_id: str, body: dict[str, Any]) -> str:
        raise AssertionError("not used")

    async def upgrade_ssr(self, site_id: str, device_id: str, version: str, **_: Any) -> dict[str, Any]:
        raise AssertionError("not used")

    async def get_site_device_upgrade(self, site_id: str, upgrade_id: str) -> SiteUpgrade:
        raise AssertionError("not used")

    async def list_site_device_upgrades(self, site_id: str, status: str | None = None) -> list[SiteUpgrade]:
        return []


def _wave(macs: list[str]) -> Wave:
    return Wave(1, [Target(m, f"dev-{m}", "S", "sid", "ap", want="2.0") for m in macs])


class Sleeper:
    def __init__(self) -> None:
        self.slept: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


async def test_device_upgrades_are_polled_with_backoff_until_done() -> None:
    fake, sleep = FakeFirmware(["a", "b"], polls=4, failing={"b"}), Sleeper()
    started = await start_wave(fake, _wave(["a", "b"]))
    results = await wait_wave(fake, started, polling=Polling(5, 20, 600), sleep=sleep)
    assert results == {"a": ("upgraded", None), "b": ("failed", "the device reported its upgrade failed")}
    assert fake.version == {"a": "2.0", "b": "1.0"}
    assert sleep.slept == [5, 10, 20]


async def test_a_lost_upgrade_answer_is_resolved_by_reading_not_by_sending_again() -> None:
    fake = FakeFirmware(["a"], polls=1, lose_answers=True)
    started = await start_wave(fake, _wave(["a"]))
    assert "a" in started.device_jobs and fake.upgrade_calls == 1
    results = await wait_wave(fake, started, polling=Polling(), sleep=Sleeper())
    assert results["a"] == ("upgraded", None)


async def test_upgrades_past_the_budget_time_out() -> None:
    fake, sleep = FakeFirmware(["a"], never=True), Sleeper()
    started = await start_wave(fake, _wave(["a"]))
    results = await wait_wave(fake, started, polling=Polling(10, 60, 100), sleep=sleep)
    assert results["a"] == ("timeout", "not finished within 1m40s")
    assert sum(sleep.slept) == 100


def _psk_state(fleet_pass: str, live_pass: str) -> tuple[DesiredState, LiveState]:
    body = {"name": "iot", "ssid": "IoT", "passphrase": fleet_pass}
    desired = DesiredState(org={K.PSKS.key: {"iot": DesiredObject(K.PSKS, "iot", body)}}, sites={})
    live = LiveState("org", {K.PSKS.key: [{"id": "1", "name": "iot", "ssid": "IoT", "passphrase": live_pass}]})
    return desired, live


async def test_a_rotated_passphrase_is_kept_only_when_the_fleet_still_holds_the_origin() -> None:
    store = MemoryStore()
    await store.put_fingerprint("org", FP_KIND, "iot", fingerprint_secret("rotated-123456", "org"))
    await store.put_fingerprint("org", ORIGIN_KIND, "iot", fingerprint_secret("fleet-pass-1", "org"))
    desired, live = _psk_state("fleet-pass-1", "rotated-123456")
    assert await respect_rotations(store, desired, live) == ["iot"]
    assert desired.org[K.PSKS.key]["iot"].body["passphrase"] == "rotated-123456"
    edited, live = _psk_state("a-new-fleet-pass", "rotated-123456")
    assert await respect_rotations(store, edited, live) == []
    by_hand, live = _psk_state("fleet-pass-1", "set-in-the-mist-ui")
    assert await respect_rotations(store, by_hand, live) == []
    assert by_hand.org[K.PSKS.key]["iot"].body["passphrase"] == "fleet-pass-1"
