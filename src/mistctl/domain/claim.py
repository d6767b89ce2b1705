"""Claim codes and MACs as Mist stores them: codes upper case without dashes (15 letters and digits).

People copy claim codes from stickers and order e-mails as `6jg8e-ptfv2-a9z2n`; Mist's inventory
keeps the code (`magic`) as `6JG8EPTFV2A9Z2N` (spec: addOrgInventory's example), and the Terraform
provider accepts only `^[0-9a-zA-Z]{15}$` and matches on the upper-cased code. Everything mistctl
compares or records uses the normalised form.
"""

from __future__ import annotations

import re

CLAIM_CODE_LENGTH = 15
#: Claim codes per `POST /orgs/{org_id}/inventory` (mist_library's inventory_claim.py claims by fifties).
CLAIM_BATCH = 50
_SEPARATORS = re.compile(r"[\s\-]")
_VALID = re.compile(rf"[0-9A-Z]{{{CLAIM_CODE_LENGTH}}}")


def normalise_claim_code(code: str) -> str:
    """`6jg8e-ptfv2-a9z2n` -> `6JG8EPTFV2A9Z2N` (dashes and spaces dropped, upper case)."""
    return _SEPARATORS.sub("", code).upper()


def claim_code_problem(code: str) -> str | None:
    """Why a claim code (as written) cannot be a Mist claim code, or None when it can."""
    if _VALID.fullmatch(normalise_claim_code(code)):
        return None
    return (f"claim code '{code}' is not {CLAIM_CODE_LENGTH} letters and digits once dashes and spaces "
            "are removed (e.g. 6JG8E-PTFV2-A9Z2N): copy it again from the device's label or the order")


_MAC_SEPARATORS = re.compile(r"[\s:.\-]")
_MAC = re.compile(r"[0-9a-f]{12}")


def normalise_mac(mac: str) -> str:
    """`5C:5B:35:00:00:01` -> `5c5b35000001`, as Mist stores MACs."""
    return _MAC_SEPARATORS.sub("", mac).lower()


def is_mac(mac: str) -> bool:
    """True for 12 hex digits once separators are removed."""
    return bool(_MAC.fullmatch(normalise_mac(mac)))
