"""A child process's stdout and stderr as bytes, written to a pipe or to a pseudo-terminal (what a user's
terminal shows, colour codes included)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")


def python_env(**extra: str) -> dict[str, str]:
    """This environment with mistctl's src on the path, none of the variables that steer Rich's colours (each
    test sets the ones it is about), and `extra`."""
    steer = ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLORTERM", "TERM", "COLUMNS")
    keep = {k: v for k, v in os.environ.items() if k not in steer}
    return {**keep, "PYTHONPATH": SRC, "TERM": "xterm-256color", **extra}


def run_on_pipe(args: list[str], env: Mapping[str, str]) -> tuple[int, bytes, bytes]:
    """`python ARGS` with stdout and stderr on pipes: exit code, stdout, stderr."""
    done = subprocess.run([sys.executable, *args], env=dict(env), capture_output=True, stdin=subprocess.DEVNULL,
                          timeout=60)
    return done.returncode, done.stdout, done.stderr


def run_on_terminal(args: list[str], env: Mapping[str, str]) -> tuple[int, bytes]:
    """`python ARGS` with stdout and stderr on one pseudo-terminal: exit code and what the terminal got."""
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, *args], env=dict(env), stdout=terminal, stderr=terminal,
                                stdin=subprocess.DEVNULL)
    finally:
        os.close(terminal)
    chunks = []
    try:
        while chunk := os.read(controller, 65536):
            chunks.append(chunk)
    except OSError:  # EIO: the child closed its end
        pass
    finally:
        os.close(controller)
    return proc.wait(timeout=60), b"".join(chunks)


def run_shown(where: str, args: list[str], env: Mapping[str, str]) -> bytes:
    """`python ARGS` on a "pipe" (stdout, then a `--stderr--` line and stderr) or on a "terminal" (what it
    got): the bytes shown, once the child exited 0."""
    if where == "pipe":
        code, out, err = run_on_pipe(args, env)
        out += b"\n--stderr--\n" + err
    else:
        code, out = run_on_terminal(args, env)
    assert code == 0, out
    return out
