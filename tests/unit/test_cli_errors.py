"""`cli/errors.handle_errors`: the errors a user can cause or fix end as a message and an exit code."""

from __future__ import annotations

import pytest
import typer

from mistctl.cli.errors import EXIT_INVALID, handle_errors
from mistctl.store.errors import StoreUnavailable


def test_an_unreachable_store_is_a_message_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    @handle_errors
    def status() -> None:  # as `mistctl status` with MISTCTL_STATE naming a Redis that is not running
        raise StoreUnavailable("cannot reach Redis at redis://127.0.0.1:1/0; start redis-server or fix the store URL")

    with pytest.raises(typer.Exit) as caught:
        status()
    assert caught.value.exit_code == EXIT_INVALID  # as `mistctl worker` and `mistctl cancel` already exit
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach Redis at redis://127.0.0.1:1/0") and "start redis-server" in err
