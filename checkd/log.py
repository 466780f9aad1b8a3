"""structlog setup: JSON lines in production, readable console lines in development."""

from __future__ import annotations

import logging
import sys

import orjson
import structlog


def configure(fmt: str = "console", level: int = logging.INFO) -> None:
    """Route structlog and stdlib logging to stderr in the chosen format (called once at start)."""
    # orjson renders a JSON line several times faster than the json module (a line per check
    # adds up) and writes UTF-8 as is; the console renderer is for people, not for speed.
    json_lines = fmt == "json"
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(serializer=orjson.dumps)
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=(structlog.BytesLoggerFactory(file=sys.stderr.buffer) if json_lines
                        else structlog.PrintLoggerFactory(file=sys.stderr)),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
