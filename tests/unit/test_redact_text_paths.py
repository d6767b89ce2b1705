"""`redact_text` skips text that cannot hold a secret (a Mist path) and still redacts each form that can."""

from __future__ import annotations

import pytest

from mistctl.store.redact import REDACTED, redact_text

KEY = "-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----"


def test_a_plain_path_comes_back_as_it_was() -> None:
    path = "/api/v1/orgs/2818e386-8dec-2562-9ede-5b8a0fbbdc71/sites"
    assert redact_text(path) is path


@pytest.mark.parametrize(("text", "secret"), [
    ("Token abcdefghijklmnopqrstuvwxyz012345 refused", "abcdefghijklmnopqrstuvwxyz012345"),
    ("bearer abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz"),
    ("/api/v1/sites/1/psks?passphrase=hunter2hunter2", "hunter2hunter2"),
    ('{"psk": "s3cret-value"}', "s3cret-value"),
    ("bad value, input_value='my-passphrase', input_type=str", "my-passphrase"),
    (f"key file: {KEY}", "MIIEv"),
])
def test_each_form_of_secret_is_still_redacted(text: str, secret: str) -> None:
    shown = redact_text(text)
    assert secret not in shown and REDACTED in shown
