"""Who is calling: `Authorization: Token <token>` mapped to a role on the org (or on no org).

Roles follow Mist: `admin` and `write` may change the org, `read` may only GET it; a token whose
privileges do not name the org gets 403 on everything under it. A user token belongs to an admin
(`user`, an email) and shares that admin's rate budget with the admin's other tokens; an org token
(`user` None) has a budget of its own (Mist docs, "Create API Tokens").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mist_twin.errors import INVALID_TOKEN, forbidden, unauthorized

ROLES = ("admin", "write", "read")
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    """A token's privileges; the token itself is kept out of the repr."""

    token: str = field(repr=False)
    role: str
    org_id: str | None
    name: str = "twin token"
    user: str | None = None  # the admin's email for a user token; None for an org token

    @property
    def rate_key(self) -> str:
        """Whose budget the token's calls count against: its user's (all their tokens), or its own."""
        return f"user:{self.user}" if self.user else f"token:{self.token}"

    def require(self, org_id: str, method: str) -> None:
        """403 unless this token may perform `method` on the org."""
        if self.org_id != org_id:
            raise forbidden()
        if self.role == "read" and method.upper() not in _READ_METHODS:
            raise forbidden()


def token_from_header(value: str | None) -> str | None:
    """The token of an `Authorization: Token <token>` header (None when absent or another scheme)."""
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "token" or not token.strip():
        return None
    return token.strip()


def token_from_scope_headers(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The token from raw ASGI headers (used by the middlewares, before routing)."""
    for name, value in headers:
        if name == b"authorization":
            return token_from_header(value.decode("latin-1"))
    return None


def authenticate(header: str | None, tokens: dict[str, Principal]) -> Principal:
    """The caller, or Mist's 401 (no credentials, or an unknown token)."""
    token = token_from_header(header)
    if token is None:
        raise unauthorized()
    principal = tokens.get(token)
    if principal is None:
        raise unauthorized(INVALID_TOKEN)
    return principal
