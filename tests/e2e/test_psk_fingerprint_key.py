"""PSK fingerprints keyed with a secret outside the store: what the store and the (public) org id hold
is not enough to test a passphrase guess; fingerprints made the old way still hold a rotation (and are
rewritten keyed); a store whose fingerprints were made with another key is refused, never misread."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from mistctl.store.redact import fingerprint_secret
from mistctl.workflow import deploy
from mistctl.workflow.psk import rotate_psks
from mistctl.workflow.psk_fingerprint import KEY_ENV, FingerprintKeyError, fingerprint_matches, key_file, load_key
from mistctl.workflow.psk_records import FP_KIND, ORIGIN_KIND
from tests.support.engine import apply, engine, example_fleet_for
from tests.support.twin import twin_app

FLEET_PASSPHRASE = "labels-example-pass-02"
KEY = "fingerprint-key-for-tests-0123456789abcdef"


def _guesses(passphrase: str, org_id: str) -> set[str]:
    """What anyone holding the store and the org id can compute for a candidate passphrase."""
    raw = passphrase.encode()
    return {fingerprint_secret(passphrase, org_id).split(":", 1)[1],
            hmac.new(org_id.encode(), raw, hashlib.sha256).hexdigest(),
            hmac.new(org_id.encode(), f"{org_id}\0{passphrase}".encode(), hashlib.sha256).hexdigest(),
            hashlib.sha256(org_id.encode() + raw).hexdigest(), hashlib.sha256(raw).hexdigest()}


async def test_fingerprints_cannot_be_recomputed_from_the_store_and_the_org_id(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    app = twin_app(seed=41)
    fleet = example_fleet_for(app.state.twin, sites=1)
    async with engine(app) as svc:
        await apply(svc, fleet)
        outcome = await rotate_psks(svc.mist, svc.store, svc.org_id, ledger=svc.ledger, names=["shelf-labels"])
        new = outcome.rotated[0].passphrase.get_secret_value()
        fp = await svc.store.get_fingerprint(svc.org_id, FP_KIND, "shelf-labels")
        origin = await svc.store.get_fingerprint(svc.org_id, ORIGIN_KIND, "shelf-labels")
        assert fp is not None and origin is not None
        for stored, passphrase in ((fp.fingerprint, new), (origin.fingerprint, FLEET_PASSPHRASE)):
            assert stored.startswith("hk-") and stored.split(":", 1)[1] not in _guesses(passphrase, svc.org_id)
            assert fingerprint_matches(stored, passphrase, svc.org_id)  # with the key, it does
            assert not fingerprint_matches(stored, passphrase + "x", svc.org_id)
        assert (await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id)).plan.is_empty()

        monkeypatch.setenv(KEY_ENV, "another-fingerprint-key-0123456789abcdef")  # a replica set up wrong
        with pytest.raises(FingerprintKeyError) as refused:
            await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id)
    assert KEY_ENV in str(refused.value) and KEY not in str(refused.value)


async def test_fingerprints_made_the_old_way_keep_the_rotation_and_are_rewritten_keyed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    app = twin_app(seed=42)
    fleet = example_fleet_for(app.state.twin, sites=1)
    async with engine(app) as svc:
        await apply(svc, fleet)
        outcome = await rotate_psks(svc.mist, svc.store, svc.org_id, ledger=svc.ledger, names=["shelf-labels"])
        new = outcome.rotated[0].passphrase.get_secret_value()
        org = svc.org_id
        before = await svc.store.get_fingerprint(org, FP_KIND, "shelf-labels")
        assert before is not None
        # the records an older mistctl left: keyed by the org id alone
        await svc.store.put_fingerprint(org, FP_KIND, "shelf-labels", fingerprint_secret(new, org),
                                        before.rotated_at)
        await svc.store.put_fingerprint(org, ORIGIN_KIND, "shelf-labels",
                                        fingerprint_secret(FLEET_PASSPHRASE, org), before.rotated_at)
        planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, org)
        assert planned.plan.is_empty(), [c.to_json() for c in planned.plan.changes if c.writes]  # not reverted
        after = await svc.store.get_fingerprint(org, FP_KIND, "shelf-labels")
        origin = await svc.store.get_fingerprint(org, ORIGIN_KIND, "shelf-labels")
    assert after is not None and after.fingerprint.startswith("hk-") and after.rotated_at == before.rotated_at
    assert origin is not None and origin.fingerprint.startswith("hk-")


def test_the_key_comes_from_the_environment_or_a_private_key_file(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv(KEY_ENV, raising=False)
    first = load_key()
    assert key_file() == tmp_path / ".mistctl" / "fingerprint.key" and load_key() == first and len(first) == 64
    assert stat.S_IMODE(os.stat(key_file()).st_mode) == 0o600
    monkeypatch.setenv(KEY_ENV, "short-key")
    with pytest.raises(FingerprintKeyError) as short:
        load_key()
    message: Any = str(short.value)
    assert "at least 32" in message and "short-key" not in message
