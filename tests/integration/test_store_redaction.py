"""Secrets stay out of the store: which fields are redacted, free-text scrubbing, fingerprints, actors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mistctl.store import AuditEntry, Run, SiteState, fingerprint_secret, redact, redact_text
from mistctl.store.redact import REDACTED, is_fingerprint, is_secret_name

TOKEN = "Zq3x9T1aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789abcdEFGH"


@pytest.mark.parametrize("name", [
    "passphrase", "old_passphrase", "apitoken", "token", "password", "secret", "psk", "key_secret",
    "root_password", "client_secret", "splunk_token", "api_key", "auth_key", "org_apitoken", "mesh_psk",
    "keys", "Passphrase", "api-key",
])
def test_secret_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", [
    "psk_id", "key_idx", "key_mgmt", "passphrase_rules", "password_policy", "name", "ssid", "keywrap_enabled",
    "multi_psk_only", "org_apitoken_name", "key",
])
def test_setting_names_are_not_secrets(name):
    assert not is_secret_name(name)


def test_redact_walks_a_plan_and_keeps_everything_but_the_secrets():
    plan = {
        "wlans": [{"ssid": "corp", "auth": {"type": "psk", "psk": "wlan-pass", "keys": ["a", "b"]}}],
        "psks": [{"name": "staff", "passphrase": "p1", "old_passphrase": None, "psk_id": "x"}],
        "radius": {"secret": 1234, "servers": [{"host": "10.0.0.1", "secret": "rad"}]},
        "apps": [{"key": "gmail"}, {"key": TOKEN}, {"key": "-----BEGIN PRIVATE KEY-----\nabc"}],
        "psk": {"name": "nested", "passphrase": "p2"},
    }
    out = redact(plan)
    assert out["wlans"][0]["auth"] == {"type": "psk", "psk": REDACTED, "keys": REDACTED}
    assert out["psks"][0] == {"name": "staff", "passphrase": REDACTED, "old_passphrase": None, "psk_id": "x"}
    assert out["radius"] == {"secret": REDACTED, "servers": [{"host": "10.0.0.1", "secret": REDACTED}]}
    assert out["apps"] == [{"key": "gmail"}, {"key": REDACTED}, {"key": REDACTED}]
    assert out["psk"] == {"name": "nested", "passphrase": REDACTED}
    assert plan["psks"][0]["passphrase"] == "p1"  # the input is left alone


def test_redact_text_scrubs_credentials_pairs_and_private_keys():
    text = (f'PUT failed: {{"passphrase": "two words", "name": "staff"}} Authorization: Token {TOKEN} '
            "password=hunter2 psk_id=5 key=guest "
            "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----")
    out = redact_text(text)
    for secret in ("two words", TOKEN, "hunter2", "MIIB"):
        assert secret not in out
    assert '"name": "staff"' in out and "psk_id=5" in out and "key=guest" in out
    mist_429 = ("Too Many Request. The API Token used for the request reached the 5000 API Calls "
                "per hour threshold")
    assert redact_text(mist_429) == mist_429


def test_fingerprints_are_keyed_one_way_hashes():
    fp = fingerprint_secret("correct-horse", "org-1")
    assert is_fingerprint(fp) and fp.startswith("sha256:")
    assert fp != fingerprint_secret("correct-horse", "org-2")
    assert "correct-horse" not in fp
    assert not is_fingerprint("correct-horse") and not is_fingerprint("md99:abcdef0123456789")


def test_records_refuse_a_token_as_the_actor_and_redact_errors():
    with pytest.raises(ValidationError, match="API token"):
        Run(kind="apply", org_id="o", requested_by=TOKEN)
    with pytest.raises(ValidationError, match="API token"):
        AuditEntry(method="GET", path="/", status=200, actor=TOKEN)
    state = SiteState(org_id="o", name="hq", status="failed", error=f"Bearer {TOKEN}")
    assert TOKEN not in state.error and TOKEN not in repr(state)


def test_a_run_repr_never_shows_its_plan():
    run = Run(kind="psk", org_id="o", plan={"psks": [{"name": "staff", "passphrase": "p1"}]})
    assert "plan" not in repr(run) and "staff" not in repr(run)


def test_validation_error_texts_lose_their_quoted_inputs() -> None:
    """A pydantic error quotes the input it refused (`input_value=...`): a passphrase must not reach a run."""
    from pydantic import BaseModel, ValidationError

    from mistctl.store.models import Run
    from mistctl.store.redact import redact_text

    class Psk(BaseModel):
        vlan_id: int

    try:
        Psk.model_validate({"vlan_id": {"nested": {"x": 1}, "passphrase": "deep-secret-value"}})
    except ValidationError as exc:
        text = str(exc)
    assert "deep-secret-value" in text
    assert "deep-secret-value" not in redact_text(text)
    assert "deep-secret-value" not in (Run(kind="apply", org_id="o", error=text).error or "")
    assert "vlan_id" in redact_text(text)  # the field it was about stays
    assert "deep-secret-value" not in redact_text("refused input_value={'p': 'deep-secret-value'} at the end")
