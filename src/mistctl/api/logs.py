"""Structured JSON logs for the service: one object per line, each with the request id it belongs to.

The request id lives in a context variable set by the request middleware, so every log line written
while serving a request (the Mist client's included) carries it. Messages are redacted once more on
the way out (`Token ...`, `Bearer ...`, secret pairs): a credential never reaches the log by accident.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from mistctl.store.redact import redact_text

#: The id of the request being served ("-" outside a request).
request_id_var: ContextVar[str] = ContextVar("mistctl_request_id", default="-")

#: `extra=` fields copied into the JSON object when a record has them.
EXTRA_FIELDS = ("method", "path", "route", "status", "duration_ms", "actor", "run_id", "site", "org_id",
                "client", "bytes")


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: ts, level, logger, msg, request_id and the known extras."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact_text(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                data[name] = value
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            data["error"] = redact_text(f"{type(exc).__name__}: {exc}")
        return json.dumps(data, default=str)


def setup_logging(level: str = "info", stream: Any = None) -> logging.Handler:
    """Send mistctl's and uvicorn's logs to `stream` (stderr) as JSON lines; returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("mistctl", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True  # the request middleware logs each request
    return handler
