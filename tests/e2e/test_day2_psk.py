"""PSK rotation against the twin: new passphrase set, old kept until finished, no passphrase anywhere else."""

from __future__ import annotations

import logging
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from mistctl.errors import UserError
from mistctl.store.models import utcnow
from mistctl.store.sqlite import SqliteStore
from mistctl.workflow import deploy
from mistctl.workflow.psk import finish_rotations, rotate_psks
from tests.e2e.cli_support import cut_example_fleet, run
from tests.support.engine import apply, engine, example_fleet_for
from tests.support.twin import twin_app

FLEET_PASSPHRASE = "labels-example-pass-02"


def _psk(twin: Any, name: str) -> dict[str, Any]:
    return next(p for p in twin.objects("psks") if p["name"] == name)


def _later(hours: float) -> Any:
    return lambda: utcnow() + timedelta(hours=hours)


async def test_rotation_keeps_the_old_passphrase_until_finished_and_stores_no_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = twin_app(seed=31)
    twin = app.state.twin
    fleet = example_fleet_for(twin, sites=1)
    db = tmp_path / "state.db"
    async with SqliteStore(db) as store, engine(app, store=store) as svc:
        await apply(svc, fleet)
        outcome = await rotate_psks(svc.mist, svc.store, svc.org_id, ledger=svc.ledger, names=["shelf-labels"],
                                    grace=3600)
        new = outcome.rotated[0].passphrase.get_secret_value()
        live = _psk(twin, "shelf-labels")
        assert live["passphrase"] == new and live["old_passphrase"] == FLEET_PASSPHRASE
        assert 24 <= len(new) <= 63 and new != FLEET_PASSPHRASE
        assert _psk(twin, "handheld-scanners").get("old_passphrase") is None, "only the named PSK"

        early = await finish_rotations(svc.mist, svc.store, svc.org_id, ledger=svc.ledger, names=["shelf-labels"])
        assert "grace period" in early.refused["shelf-labels"] and not early.finished
        assert _psk(twin, "shelf-labels")["old_passphrase"] == FLEET_PASSPHRASE

        done = await finish_rotations(svc.mist, svc.store, svc.org_id, ledger=svc.ledger, every=True, now=_later(2))
        assert done.finished == ["shelf-labels"] and done.ok
        assert "old_passphrase" not in _psk(twin, "shelf-labels")
        assert _psk(twin, "shelf-labels")["passphrase"] == new
        audit = await svc.store.list_audit(limit=1000)
        assert any(e.kind == "psks" and e.name == "shelf-labels" and e.method == "PUT" for e in audit)
        assert any(e.path.endswith("/delete_old_passphrase") for e in audit)
        rotation_run = await svc.store.get_run(outcome.run_id)
        assert rotation_run is not None and rotation_run.status == "completed"
        fp = await svc.store.get_fingerprint(svc.org_id, "psks", "shelf-labels")
        assert fp is not None and fp.fingerprint.startswith("hk-")  # keyed: psk_fingerprint
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("state.db"))
    assert new.encode() not in raw
    assert new not in caplog.text and FLEET_PASSPHRASE not in caplog.text
    assert new not in repr(outcome)


async def test_a_plan_after_rotation_does_not_revert_it_but_a_new_fleet_passphrase_wins() -> None:
    app = twin_app(seed=32)
    twin = app.state.twin
    fleet = example_fleet_for(twin, sites=1)
    async with engine(app) as svc:
        await apply(svc, fleet)
        outcome = await rotate_psks(svc.mist, svc.store, svc.org_id, ledger=svc.ledger, every=True)
        assert sorted(r.name for r in outcome.rotated) == ["handheld-scanners", "shelf-labels"]
        planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id)
        assert planned.plan.is_empty(), [c.to_json() for c in planned.plan.changes if c.writes]

        # a second rotation keeps the fleet's passphrase as the chain's origin
        await finish_rotations(svc.mist, svc.store, svc.org_id, ledger=svc.ledger, every=True, force=True)
        await rotate_psks(svc.mist, svc.store, svc.org_id, ledger=svc.ledger, names=["shelf-labels"])
        assert (await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id)).plan.is_empty()

        psks = [dict(p, passphrase="a-brand-new-fleet-pass") if p["name"] == "shelf-labels" else p
                for p in fleet.org.psks]
        edited = fleet.model_copy(update={"org": fleet.org.model_copy(update={"psks": psks})})
        planned = await deploy.plan_fleet(svc.mist, svc.store, edited, svc.org_id)
        writes = [(c.kind, c.key, sorted(c.diff)) for c in planned.plan.changes if c.writes]
        assert writes == [("psks", "shelf-labels", ["passphrase"])]
        await deploy.apply_planned(svc.mist, svc.store, planned, ledger=svc.ledger,
                                   run=await svc.new_run("apply", planned.plan))
    assert _psk(twin, "shelf-labels")["passphrase"] == "a-brand-new-fleet-pass"


async def test_unfinished_rotation_is_refused_without_force_and_unknown_names_are_named() -> None:
    app = twin_app(seed=33)
    fleet = example_fleet_for(app.state.twin, sites=1)
    async with engine(app) as svc:
        await apply(svc, fleet)
        await rotate_psks(svc.mist, svc.store, svc.org_id, ledger=svc.ledger, names=["shelf-labels"])
        with pytest.raises(UserError, match="shelf-labels.*psk finish"):
            await rotate_psks(svc.mist, svc.store, svc.org_id, ledger=svc.ledger, names=["shelf-labels"])
        with pytest.raises(UserError, match="'nope'"):
            await rotate_psks(svc.mist, svc.store, svc.org_id, ledger=svc.ledger, names=["nope"])
        with pytest.raises(UserError, match="--all"):
            await rotate_psks(svc.mist, svc.store, svc.org_id, ledger=svc.ledger)
        first_old = _psk(app.state.twin, "shelf-labels")["old_passphrase"]
        await rotate_psks(svc.mist, svc.store, svc.org_id, ledger=svc.ledger, names=["shelf-labels"], force=True)
        assert _psk(app.state.twin, "shelf-labels")["old_passphrase"] != first_old


async def test_finish_refuses_a_rotation_mistctl_did_not_make() -> None:
    app = twin_app(seed=34)
    twin = app.state.twin
    fleet = example_fleet_for(twin, sites=1)
    async with engine(app) as svc:
        await apply(svc, fleet)
        psk = _psk(twin, "shelf-labels")
        by_hand = {"passphrase": "rotated-by-hand-1", "old_passphrase": FLEET_PASSPHRASE}
        await svc.mist.update_psk(svc.org_id, psk["id"], by_hand)
        outcome = await finish_rotations(svc.mist, svc.store, svc.org_id, ledger=svc.ledger, every=True)
        assert "no record" in outcome.refused["shelf-labels"]
        assert _psk(twin, "shelf-labels")["old_passphrase"] == FLEET_PASSPHRASE
        forced = await finish_rotations(svc.mist, svc.store, svc.org_id, ledger=svc.ledger, every=True, force=True)
        assert forced.finished == ["shelf-labels"]


def test_cli_rotate_to_an_owner_only_file_then_finish(workdir: Path) -> None:
    assert run("apply", cut_example_fleet(workdir, "one.yaml", sites=1), "--yes")[0] == 0
    code, out = run("psk", "rotate", "--name", "shelf-labels", "--grace", "1h", "--out", "new.json", "--yes")
    assert code == 0, out
    secret_file = workdir / "new.json"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    import json

    new = json.loads(secret_file.read_text())["rotated"][0]["passphrase"]
    assert new not in out
    code, out = run("psk", "rotate", "--name", "handheld-scanners", "--out", "new.json", "--yes")
    assert code == 2 and "exists" in out
    code, out = run("psk", "list")
    assert code == 0 and "shelf-labels" in out and new not in out
    code, out = run("psk", "finish", "--name", "shelf-labels", "--yes")
    assert code == 2 and "grace period" in out
    code, out = run("psk", "finish", "--all", "--force", "--yes")
    assert code == 0 and "shelf-labels: old passphrase removed" in out
    code, out = run("psk", "rotate", "--all", "--yes")
    assert code == 0 and "shown once" in out
    state = b"".join(p.read_bytes() for p in (workdir / ".mistctl").iterdir() if p.name.startswith("state"))
    assert new.encode() not in state
