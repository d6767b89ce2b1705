"""The rule for a fleet's `name:` (the owner name of the org objects it writes; see `owners`).

Apart from `owners` so that parsing a fleet needs only the rule, not the planning modules owners uses.
"""

from __future__ import annotations

import re

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
NAME_RULE = "1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit"


def name_problem(value: object) -> str | None:
    """Why `value` cannot be a fleet's `name:`, or None when it can."""
    if not isinstance(value, str) or not NAME_RE.fullmatch(value):
        return f"must be {NAME_RULE} (it names the owner of the org objects this file writes)"
    return None
