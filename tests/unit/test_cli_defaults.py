"""The command line takes its defaults from Config: one place says what `checkd serve` does by default."""

from __future__ import annotations

from dataclasses import fields

from checkd.cli import _parser
from checkd.config import Config

# serve option dest -> the Config field it fills
_OPTIONS = {
    "listen": "listen",
    "db": "db_url",
    "rules": "rules_dir",
    "secret_file": "secret_file",
    "max_batch": "max_batch",
    "workers": "workers",
    "max_concurrent_rpcs": "max_concurrent_rpcs",
    "grace": "grace_seconds",
    "poll": "poll_seconds",
    "log_format": "log_format",
    "overdue_days": "overdue_days",
    "checkpoint_seconds": "checkpoint_seconds",
    "checkpoint_records": "checkpoint_records",
}


def test_serve_defaults_are_the_config_defaults() -> None:
    """Every serve option left out is Config's default for its field."""
    args = vars(_parser().parse_args(["serve"]))
    defaults = {f.name: f.default for f in fields(Config)}
    differing = {
        dest: (args[dest], defaults[field])
        for dest, field in _OPTIONS.items()
        if args[dest] != defaults[field]
    }
    assert not differing, differing
