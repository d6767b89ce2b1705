"""Quirks: switches that make the twin behave like a Mist that differs from the one we model.

The twin models what we believe Mist does (`Quirks()`: every switch off). A quirk turns on one
plausible other answer, so `mistctl conformance` and mistctl's own code can be tested against it:

- `vars_merge`: `PUT /sites/{id}/setting` merges the `vars` sent into the stored ones (instead of
  replacing the whole map).
- `no_page_total`: list answers carry no `X-Page-Total` header.
- `psk_copies_old`: a PSK update that changes the passphrase copies the previous one into
  `old_passphrase` by itself (the modelled Mist keeps only what the body sends).
- `psk_drop_sent_old`: a PSK update ignores an `old_passphrase` sent in the body (only Mist's own copy).

Set them with `TwinConfig(quirks=...)` or, on a running twin, `PUT /__twin/quirks`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Quirks(BaseModel):
    """The twin's deviations from modelled Mist; all off by default."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    vars_merge: bool = False
    no_page_total: bool = False
    psk_copies_old: bool = False
    psk_drop_sent_old: bool = False

    def apply(self, changes: Quirks) -> None:
        """Take every value of `changes`, in place (handlers hold this object)."""
        for name in type(self).model_fields:
            setattr(self, name, getattr(changes, name))
