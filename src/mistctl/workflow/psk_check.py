"""The safety of one PSK rotation: send the current passphrase as `old_passphrase`, and check Mist kept it.

No source confirms that Mist copies the previous passphrase into `old_passphrase` by itself; the spec
lists `old_passphrase` as a field the client writes (`psk`, "previous passphrase of the PSK if it has
been rotated"). So a rotation writes both, and reads the answer: a PSK whose answer lacks the old
passphrase would lock out every device still on it, so mistctl puts the current passphrase back and
stops with `RotationUnsafe`. No message here ever holds a passphrase.
"""

from __future__ import annotations

from typing import Any, Protocol

from mistctl.errors import UserError
from mistctl.mist.errors import MistError


class RotationUnsafe(UserError):
    """Mist did not keep the old passphrase (or mistctl cannot send it): the rotation stops."""


class PskWriter(Protocol):
    async def update_psk(self, org_id: str, psk_id: str, body: dict[str, Any]) -> dict[str, Any]: ...


def rotation_body(psk: dict[str, Any], new: str) -> dict[str, Any]:
    """The PUT body of a rotation: the new passphrase and the current one as `old_passphrase`."""
    current = psk.get("passphrase")
    if not isinstance(current, str) or not current:
        raise RotationUnsafe(
            f"PSK {psk.get('name')!r}: Mist did not show its current passphrase, so mistctl cannot keep it "
            "as the old passphrase and devices using it would be locked out; nothing was changed. Check the "
            "token may read PSK passphrases (an admin or write role), or rotate this PSK in the Mist portal"
        )
    return {"passphrase": new, "old_passphrase": current}


async def ensure_old_kept(mist: PskWriter, org_id: str, psk: dict[str, Any], answer: dict[str, Any]) -> None:
    """Return when Mist's answer keeps the current passphrase as `old_passphrase`; else put the current
    passphrase back and raise `RotationUnsafe` naming the PSK and what to do."""
    current = str(psk.get("passphrase"))
    if answer.get("old_passphrase") == current:
        return
    name = psk.get("name")
    try:
        await mist.update_psk(org_id, str(psk["id"]), {"passphrase": current})
        undone = "mistctl put the current passphrase back, so no device lost access"
    except MistError as exc:
        undone = (f"putting the current passphrase back failed too ({exc.message}): set it again in the Mist "
                  "portal now, devices on it are locked out")
    raise RotationUnsafe(
        f"PSK {name!r}: Mist's answer to the rotation has no old_passphrase, so devices still using the current "
        f"passphrase would be locked out; {undone}. The rotation stopped: rotate during a maintenance "
        "window instead, or check the Mist API for a change in how it keeps old passphrases"
    )
