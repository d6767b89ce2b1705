"""Errors shared by every entry point."""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix; its message says how (exit code 2 on the CLI, 4xx in the API)."""
